"""A local S3 server for the object-storage tests (scripts/test_s3.sh).

moto's S3 server on 127.0.0.1 (a free port), set up as a real account
would be: one IAM user with an access key and a policy allowing S3, and one
bucket. Authentication is then enforced, so requests signed with another
key are refused with 403 as AWS refuses them. The server's endpoint and
the user's keys are written as shell `export` lines to the file given, and
the server runs until it is terminated.

    python scripts/s3_server.py --env-file /tmp/s3.env --bucket gmm-test
"""

import argparse
import json
import os
import signal
import sys
import threading
import urllib.request

import boto3
from moto.server import ThreadedMotoServer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env-file", required=True, help="where to write the exports")
    ap.add_argument("--bucket", default="gmm-test")
    args = ap.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    # Set-up, unauthenticated: moto accepts any key until auth is enforced.
    setup = dict(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIASETUPSETUPSETUP0",
        aws_secret_access_key="setup",
    )
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="gmm")
    iam.put_user_policy(
        UserName="gmm",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="gmm")["AccessKey"]
    boto3.client("s3", **setup).create_bucket(Bucket=args.bucket)

    # From now on every request must be signed by a known key.
    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(req).read()

    tmp = args.env_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"export AWS_ENDPOINT_URL={endpoint}\n")
        f.write("export AWS_REGION=us-east-1\n")
        f.write(f"export AWS_ACCESS_KEY_ID={key['AccessKeyId']}\n")
        f.write(f"export AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n")
        f.write(f"export GMM_TEST_S3_BUCKET={args.bucket}\n")
    os.replace(tmp, args.env_file)
    print(f"S3 server at {endpoint}, bucket {args.bucket}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
