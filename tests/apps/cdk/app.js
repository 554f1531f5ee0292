// elfcheck test application (AWS CDK, JavaScript): three zip functions, one image function, one layer.
//
// Python dependencies are installed by CDK's local bundling (`tryBundle`), which runs pip on the
// machine that runs `cdk synth`; no container is started. pip resolves wheels for that machine
// (x86_64 here) unless told otherwise.
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const cdk = require("aws-cdk-lib");
const lambda = require("aws-cdk-lib/aws-lambda");

// A Python 3.11 with pip (build.sh passes its venv's interpreter).
const PYTHON = process.env.ELFCHECK_PYTHON || "python3.11";

// Code for a Python function: the source folder plus its requirements, installed by pip.
// The pip arguments are part of `command`, so they are part of the asset's hash: two functions
// with the same source and the same arguments share one asset folder.
function pythonCode(srcDir, platformArgs) {
  const pipArgs = ["install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt", ...platformArgs];
  return lambda.Code.fromAsset(srcDir, {
    bundling: {
      // Required by the type; never pulled, because local bundling succeeds.
      image: lambda.Runtime.PYTHON_3_11.bundlingImage,
      command: ["bash", "-c", `pip ${pipArgs.join(" ")} -t /asset-output && cp -au . /asset-output`],
      local: {
        tryBundle(outputDir) {
          execFileSync(PYTHON, ["-m", "pip", ...pipArgs, "-t", outputDir], { cwd: srcDir, stdio: "inherit" });
          fs.cpSync(srcDir, outputDir, { recursive: true });
          return true;
        },
      },
    },
  });
}

const FOR_ARM64 = ["--platform", "manylinux2014_aarch64", "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp"];

class ElfcheckAppStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const src = path.join(__dirname, "functions", "app");

    const shared = new lambda.LayerVersion(this, "SharedLayer", {
      code: lambda.Code.fromAsset(path.join(__dirname, "layers", "shared")),
      compatibleRuntimes: [lambda.Runtime.PYTHON_3_11],
      compatibleArchitectures: [lambda.Architecture.X86_64, lambda.Architecture.ARM_64],
    });
    const external = lambda.LayerVersion.fromLayerVersionArn(
      this, "ExternalLayer", "arn:aws:lambda:us-east-1:123456789012:layer:external-tools:3");

    const common = { runtime: lambda.Runtime.PYTHON_3_11, handler: "app.handler", layers: [shared] };

    // x86_64, dependencies from pip on the (x86_64) build machine: loads.
    new lambda.Function(this, "X86Function", {
      ...common,
      architecture: lambda.Architecture.X86_64,
      code: pythonCode(src, []),
      layers: [shared, external],
    });

    // arm64, pip told to fetch aarch64 wheels: loads.
    new lambda.Function(this, "ArmFunction", {
      ...common,
      architecture: lambda.Architecture.ARM_64,
      code: pythonCode(src, FOR_ARM64),
    });

    // arm64 with the same bundling as X86Function: the same asset folder, x86_64 extension.
    new lambda.Function(this, "ArmHostFunction", {
      ...common,
      architecture: lambda.Architecture.ARM_64,
      code: pythonCode(src, []),
    });

    // Container image: staged as a Docker build context, built only on deploy.
    new lambda.DockerImageFunction(this, "ImageFunction", {
      code: lambda.DockerImageCode.fromImageAsset(path.join(__dirname, "images", "app")),
    });
  }
}

const app = new cdk.App();
new ElfcheckAppStack(app, "ElfcheckApp");
app.synth();
