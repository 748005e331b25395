// One asset bucket per region, `<prefix>-<region>`, in the account that owns the rollout:
// where the member template (in the StackSet's region) and the handler bundle and declaration
// layer (in every region) are read from. Lambda reads a function's code only from a bucket in
// the function's own region, hence one bucket per region. Every account of the organization may
// read the rotator's objects (aws:PrincipalOrgID), nothing else; nobody outside may.
import { RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ASSET_KEY_PREFIX, regionalBucketName } from './member.ts';

export interface AssetBucketProps {
  readonly organizationId: string;
  readonly assetBucketPrefix: string;
}

export class OrgAssetBucketStack extends Stack {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, assets: AssetBucketProps, props: StackProps = {}) {
    super(scope, id, props);
    this.bucket = new s3.Bucket(this, 'AssetBucket', {
      bucketName: regionalBucketName(assets.assetBucketPrefix, this.region),
      // SSE-S3, not KMS: member accounts' CloudFormation and Lambda read with their own
      // credentials, which a customer managed key would have to grant one by one.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Existing stack instances keep reading their code from here.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationReadsRotatorAssets',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${ASSET_KEY_PREFIX}*`)],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': assets.organizationId } },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only content-addressed build outputs that carry no secret (the handler bundle, the declared targets ' +
        'layer, the member template), written by the publishing script and readable by the organization only; ' +
        'CloudTrail data events record reads where that is wanted.',
    });
  }
}
