"""Prints template.yaml as CloudFormation receives it: the SAM transform
applied (AWS::Serverless::* expanded into Lambda, API Gateway V2, IAM, event
source mappings and permissions), as `sam deploy` would have it applied.

Run with the SAM CLI's venv (infra/install.sh makes .local/sam):
    .local/sam/bin/python infra/localstack/sam-transform.py template.yaml

Functions' CodeUri is set to an S3 address first, as `sam package` does
after uploading each function's zip. Managed policies are not looked up
(the template names none). Offline: nothing is sent to any endpoint."""

import json
import os
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    def load(self):
        return {}


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
    print(json.dumps(transform(template, {}, NoManagedPolicies()), indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
