'use strict';
// Packages with no AWS account reachable: Serverless Framework v3 asks CloudFormation for the
// deployed stack while compiling layers (to reuse an unchanged layer's S3 key). A stack that was
// never deployed answers "does not exist"; this plugin gives that answer without the network.
class OfflineStack {
  constructor(serverless) {
    const provider = serverless.getProvider('aws');
    const request = provider.request.bind(provider);
    provider.request = async (service, method, params, options) => {
      if (service === 'CloudFormation' && method === 'describeStacks') {
        const name = params && params.StackName;
        throw new Error(`Stack with id ${name} does not exist`);
      }
      return request(service, method, params, options);
    };
  }
}
module.exports = OfflineStack;
