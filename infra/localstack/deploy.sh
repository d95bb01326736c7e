#!/usr/bin/env bash
# Deploys template.yaml with the AWS SAM CLI onto a LocalStack that runs
# Lambda functions (LocalStack's Docker image, which needs Docker and, since
# March 2026, an account token), as `sam deploy` deploys onto AWS.
#
#   infra/localstack/deploy.sh                         # LocalStack at http://localhost:4566
#   LOCALSTACK_URL=http://host:4566 infra/localstack/deploy.sh
#   STACK_NAME=booking-dev infra/localstack/deploy.sh --parameter-overrides LogLevel=debug
#
# What it does, in order: installs the SAM CLI, cargo-lambda and zig
# (infra/install.sh --deploy); points every AWS call at LocalStack
# (AWS_ENDPOINT_URL, which the SAM CLI's boto3 honours; a 12-digit access key,
# which LocalStack takes as the account id); creates the JWT signing key in
# SSM once; builds every function for provided.al2023 on arm64 (sam build,
# BuildMethod: rust-cargolambda); deploys the stack (sam deploy
# --resolve-s3). Extra arguments go to `sam deploy`.
#
# LocalStack's open-source CloudFormation (localstack-core 2026.3.0) cannot
# create AWS::ApiGatewayV2::* (the HTTP API), AWS::CloudWatch::Dashboard nor
# AWS::SES::ConfigurationSet; a LocalStack that can is needed (see
# docs/localstack.md). Not run by the tests: nothing here runs Docker. What
# is tested is its template part: tests/tests/template.rs transforms the
# template as `sam deploy` does and checks each resource type against what
# LocalStack creates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

url="${LOCALSTACK_URL:-http://localhost:4566}"
stack="${STACK_NAME:-booking-localstack}"

infra/install.sh --deploy
export PATH="$PWD/.local/sam/bin:$PWD/.local/deploy/bin:$PATH"
export AWS_ENDPOINT_URL="$url"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-000000000000}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0

if ! curl -fsS "$url/_localstack/health" >/dev/null; then
  echo "no LocalStack answers at $url (set LOCALSTACK_URL)" >&2
  exit 1
fi

# The signing key, once per LocalStack (its state is lost when it stops).
.local/sam/bin/python - <<'PY'
import base64, os, boto3
ssm = boto3.client("ssm")
name = "/booking-platform/jwt-signing-key"
try:
    ssm.get_parameter(Name=name)
    print(f"{name} exists")
except ssm.exceptions.ParameterNotFound:
    ssm.put_parameter(Name=name, Type="SecureString",
                      Value=base64.b64encode(os.urandom(48)).decode())
    print(f"{name} created")
PY

sam build --beta-features
sam deploy --stack-name "$stack" --resolve-s3 \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
  --no-confirm-changeset --no-fail-on-empty-changeset "$@"
.local/sam/bin/python - "$stack" <<'PY'
import sys, boto3
stack = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]
print(stack["StackStatus"])
for output in stack.get("Outputs", []):
    print(f'{output["OutputKey"]}: {output["OutputValue"]}')
PY
