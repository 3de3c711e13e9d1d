#!/usr/bin/python3
"""Times one S3 multipart upload through mkv with boto3: the parts' upload, then the Complete
(mkv concatenates the parts volume -> mkv -> volumes), and reports how much mkv's peak RSS grew.
Run it against a cluster, e.g. `scripts/cluster --s3` in another terminal:

    bench/s3/multipart.py --credentials .cluster/s3.credentials [--size-mib 1024] [--part-mib 64]

--pid names the mkv serve process whose VmHWM is read (default: the one pgrep finds). Nothing is
asserted; the object is read back once natively and its MD5 compared, then deleted."""
import argparse
import hashlib
import os
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.config import Config


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM for pid %d" % pid)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:9000")
    parser.add_argument("--native", default="http://127.0.0.1:3000")
    parser.add_argument("--credentials", required=True, help="a file: ACCESS_KEY SECRET")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--pid", type=int)
    args = parser.parse_args()
    if args.size_mib % args.part_mib:
        sys.exit("--size-mib must be a multiple of --part-mib")
    key_id, secret = open(args.credentials).read().split()[:2]
    pid = args.pid or int(subprocess.check_output(["pgrep", "-f", "mkv.* serve"]).split()[0])
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1",
                      aws_access_key_id=key_id, aws_secret_access_key=secret,
                      config=Config(read_timeout=600, retries={"max_attempts": 1}))
    part = os.urandom(args.part_mib << 20)
    count = args.size_mib // args.part_mib
    whole = hashlib.md5()
    for _ in range(count):
        whole.update(part)
    bucket, key = "bench-multipart", "object-%d" % os.getpid()

    before = peak_rss_kib(pid)
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    started = time.monotonic()
    parts = []
    for number in range(1, count + 1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                              Body=part)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    uploaded = time.monotonic()
    result = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                          MultipartUpload={"Parts": parts})
    completed = time.monotonic()
    after = peak_rss_kib(pid)

    size_mb = (args.size_mib << 20) / 1e6
    print("multipart upload of %d MiB in %d parts of %d MiB" % (args.size_mib, count,
                                                                 args.part_mib))
    print("  UploadPart x%d   %6.1f s  %6.0f MB/s" % (count, uploaded - started,
                                                       size_mb / (uploaded - started)))
    print("  Complete         %6.1f s  %6.0f MB/s  (ETag %s)" % (
        completed - uploaded, size_mb / (completed - uploaded), result["ETag"]))
    print("  mkv peak RSS %.1f MiB -> %.1f MiB: growth %.1f MiB" % (before / 1024, after / 1024,
                                                                    (after - before) / 1024))
    read = hashlib.md5()
    with urllib.request.urlopen("%s/%s/%s" % (args.native, bucket, key)) as answer:
        while chunk := answer.read(1 << 20):
            read.update(chunk)
    same = read.digest() == whole.digest()
    print("  native GET (302 followed): MD5 %s" % ("matches" if same else "DIFFERS"))
    s3.delete_object(Bucket=bucket, Key=key)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
