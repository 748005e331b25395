// Imported first by the local scripts, before anything that loads the AWS SDK: importing
// lambda/handler.ts builds the production clients at once, and the SDK's one-time warning
// about Node 20 (true, and irrelevant to a local demo) would otherwise interleave with the
// scripts' output. The variable only silences that warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
