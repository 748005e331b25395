// The organization rollout as a construct library (exported by the package's entry): the
// member stack every account gets and the synthesizer that addresses its assets per region,
// the central stack (StackSet, org bus, observability sink, alarm, dashboard) and the
// per-region asset bucket stack. This repository's app (app.ts) wires them from cdk.json.
export { OrgAssetBucketStack, type AssetBucketProps } from './assets.ts';
export {
  type CallAs,
  checkedRolloutProps,
  DEFAULT_ORG_BUS_NAME,
  DEFAULT_STACK_SET_NAME,
  ORG_FAILED_TARGETS_QUERY,
  OrganizationRolloutStack,
  type OrganizationRolloutProps,
} from './central.ts';
export {
  ASSET_KEY_PREFIX,
  MEMBER_PARAMETER,
  type MemberAsset,
  MemberStack,
  type MemberStackProps,
  RegionalAssetSynthesizer,
  regionalBucketName,
  STACKSETS_EXECUTION_ROLE,
  synthesizeMemberTemplate,
} from './member.ts';
