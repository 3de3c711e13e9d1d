#!/usr/bin/python3
# Drives mkv's S3 API with Debian's boto3 (tests/integration/s3_test.cpp runs it against a real
# cluster): every call a real client makes, checked; exits non-zero at the first surprise.
#   boto3_check.py ENDPOINT ACCESS_KEY SECRET BUCKET
import hashlib
import sys
import urllib.error
import urllib.request

import boto3
import botocore
from botocore.config import Config

endpoint, access_key, secret, bucket = sys.argv[1:5]


def client(secret_key=secret, key_id=access_key, **config):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key_id,
                        aws_secret_access_key=secret_key, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}, **config))


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{call.__name__}: expected {code}, got {got}: {e}"
        return e
    raise AssertionError(f"{call.__name__}: expected {code}, it succeeded")


s3 = client()

# The bucket exists because the test wrote a native key under it.
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
assert bucket in names, names
s3.head_bucket(Bucket=bucket)
expect_error("404", s3.head_bucket, Bucket="no-such-bucket")
expect_error("NoSuchBucket", s3.list_objects_v2, Bucket="no-such-bucket")
expect_error("BucketAlreadyOwnedByYou", s3.create_bucket, Bucket=bucket)

# A created bucket exists while empty (its marker is never listed), refuses DeleteBucket while
# it holds an object, and is gone after DeleteBucket.
s3.create_bucket(Bucket="fresh-bucket")
expect_error("BucketAlreadyOwnedByYou", s3.create_bucket, Bucket="fresh-bucket")
expect_error("InvalidBucketName", s3.create_bucket, Bucket="Bad_Name")
s3.head_bucket(Bucket="fresh-bucket")
assert "fresh-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
assert s3.list_objects_v2(Bucket="fresh-bucket")["KeyCount"] == 0
s3.put_object(Bucket="fresh-bucket", Key="only", Body=b"1")
assert [o["Key"] for o in s3.list_objects_v2(Bucket="fresh-bucket")["Contents"]] == ["only"]
expect_error("BucketNotEmpty", s3.delete_bucket, Bucket="fresh-bucket")
s3.delete_object(Bucket="fresh-bucket", Key="only")
s3.head_bucket(Bucket="fresh-bucket")  # still there: it was created
s3.delete_bucket(Bucket="fresh-bucket")
expect_error("404", s3.head_bucket, Bucket="fresh-bucket")
expect_error("NoSuchBucket", s3.delete_bucket, Bucket="fresh-bucket")

# Objects: small, empty, 20 MiB in one PutObject; ETags are their MD5s.
small = b"hello through S3"
put = s3.put_object(Bucket=bucket, Key="s3/small.txt", Body=small)
assert put["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), put["ETag"]
s3.put_object(Bucket=bucket, Key="s3/empty", Body=b"")
big = bytes(range(256)) * (20 * 1024 * 1024 // 256)
s3.put_object(Bucket=bucket, Key="s3/big.bin", Body=big)
got = s3.get_object(Bucket=bucket, Key="s3/big.bin")
assert got["ContentLength"] == len(big)
assert got["Body"].read() == big
assert got["ETag"] == '"%s"' % hashlib.md5(big).hexdigest()
assert s3.get_object(Bucket=bucket, Key="s3/empty")["Body"].read() == b""
head = s3.head_object(Bucket=bucket, Key="s3/small.txt")
assert head["ContentLength"] == len(small) and head["ETag"] == put["ETag"], head

# What an object keeps besides its bytes: Content-Type and the other standard headers, and user
# metadata, returned by GetObject and HeadObject; response-* parameters override them; an
# overwrite without them drops them; over 2 KB of user metadata is refused.
s3.put_object(Bucket=bucket, Key="meta/typed.html", Body=b"<p>", ContentType="text/html",
              CacheControl="max-age=60", ContentDisposition='attachment; filename="t.html"',
              Metadata={"mtime": "1700000000.25", "Origin": "Camera 1"})
head = s3.head_object(Bucket=bucket, Key="meta/typed.html")
assert head["ContentType"] == "text/html", head
assert head["CacheControl"] == "max-age=60", head
assert head["ContentDisposition"] == 'attachment; filename="t.html"', head
assert head["Metadata"] == {"mtime": "1700000000.25", "origin": "Camera 1"}, head["Metadata"]
got = s3.get_object(Bucket=bucket, Key="meta/typed.html")
assert got["ContentType"] == "text/html" and got["Metadata"] == head["Metadata"], got
assert got["Body"].read() == b"<p>"
got = s3.get_object(Bucket=bucket, Key="meta/typed.html", ResponseContentType="text/plain")
assert got["ContentType"] == "text/plain", got["ContentType"]
assert s3.head_object(Bucket=bucket, Key="s3/small.txt")["ContentType"] == "binary/octet-stream"
s3.put_object(Bucket=bucket, Key="meta/typed.html", Body=b"<p>")
head = s3.head_object(Bucket=bucket, Key="meta/typed.html")
assert head["Metadata"] == {} and head["ContentType"] == "binary/octet-stream", head
expect_error("MetadataTooLarge", s3.put_object, Bucket=bucket, Key="meta/typed.html", Body=b"x",
             Metadata={"big": "v" * 2100})

# CopyObject: volume to volume through mkv (the bytes never come to the client); the source's
# headers copied by default, or replaced; conditions on the source; copying onto itself must
# replace the metadata.
s3.put_object(Bucket=bucket, Key="meta/src.txt", Body=b"copy me", ContentType="text/plain",
              Metadata={"a": "1"})
source = {"Bucket": bucket, "Key": "meta/src.txt"}
copied = s3.copy_object(Bucket=bucket, Key="meta/dst.txt", CopySource=source)
assert copied["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copy me").hexdigest(), copied
head = s3.head_object(Bucket=bucket, Key="meta/dst.txt")
assert head["ContentType"] == "text/plain" and head["Metadata"] == {"a": "1"}, head
assert s3.get_object(Bucket=bucket, Key="meta/dst.txt")["Body"].read() == b"copy me"
s3.copy_object(Bucket=bucket, Key="meta/replaced.txt", CopySource=source,
               MetadataDirective="REPLACE", ContentType="a/b", Metadata={"b": "2"})
head = s3.head_object(Bucket=bucket, Key="meta/replaced.txt")
assert head["ContentType"] == "a/b" and head["Metadata"] == {"b": "2"}, head
expect_error("PreconditionFailed", s3.copy_object, Bucket=bucket, Key="meta/x", CopySource=source,
             CopySourceIfMatch='"00000000000000000000000000000000"')
s3.copy_object(Bucket=bucket, Key="meta/if.txt", CopySource=source,
               CopySourceIfMatch=copied["CopyObjectResult"]["ETag"])
expect_error("NoSuchKey", s3.copy_object, Bucket=bucket, Key="meta/x",
             CopySource={"Bucket": bucket, "Key": "meta/none"})
expect_error("InvalidRequest", s3.copy_object, Bucket=bucket, Key="meta/src.txt",
             CopySource=source)
s3.copy_object(Bucket=bucket, Key="meta/src.txt", CopySource=source, MetadataDirective="REPLACE",
               ContentType="text/markdown")
assert s3.head_object(Bucket=bucket, Key="meta/src.txt")["ContentType"] == "text/markdown"
assert s3.get_object(Bucket=bucket, Key="meta/src.txt")["Body"].read() == b"copy me"
s3.copy_object(Bucket=bucket, Key="copies/big.bin", CopySource={"Bucket": bucket,
                                                                "Key": "s3/big.bin"})
got = s3.get_object(Bucket=bucket, Key="copies/big.bin")
assert got["Body"].read() == big and got["ETag"] == '"%s"' % hashlib.md5(big).hexdigest()

# Range (206) and an unsatisfiable one (416).
part = s3.get_object(Bucket=bucket, Key="s3/big.bin", Range="bytes=1000-1999")
assert part["ContentRange"] == "bytes 1000-1999/%d" % len(big), part["ContentRange"]
assert part["Body"].read() == big[1000:2000]
tail = s3.get_object(Bucket=bucket, Key="s3/small.txt", Range="bytes=-4")
assert tail["Body"].read() == small[-4:]
expect_error("InvalidRange", s3.get_object, Bucket=bucket, Key="s3/small.txt",
             Range="bytes=100-200")

# Conditional requests: 304, 412, create-only.
expect_error("304", s3.get_object, Bucket=bucket, Key="s3/small.txt", IfNoneMatch=put["ETag"])
expect_error("PreconditionFailed", s3.get_object, Bucket=bucket, Key="s3/small.txt",
             IfMatch='"00000000000000000000000000000000"')

# A body that is not what Content-MD5 says is refused and changes nothing.
expect_error("BadDigest", s3.put_object, Bucket=bucket, Key="s3/small.txt", Body=b"other",
             ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
assert s3.get_object(Bucket=bucket, Key="s3/small.txt")["Body"].read() == small

# Listing: V2 pages of 2, V1 with markers, delimiter roll-up, prefix.
for i in range(5):
    s3.put_object(Bucket=bucket, Key="list/k%d" % i, Body=b"%d" % i)
s3.put_object(Bucket=bucket, Key="list/sub/deep", Body=b"d")
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/",
                                                         PaginationConfig={"PageSize": 2}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["list/k0", "list/k1", "list/k2", "list/k3", "list/k4", "list/sub/deep"], keys
keys = []
for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="list/",
                                                      PaginationConfig={"PageSize": 2}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["list/k0", "list/k1", "list/k2", "list/k3", "list/k4", "list/sub/deep"], keys
rolled = s3.list_objects_v2(Bucket=bucket, Prefix="list/", Delimiter="/")
assert [o["Key"] for o in rolled["Contents"]] == ["list/k%d" % i for i in range(5)], rolled
assert rolled["CommonPrefixes"] == [{"Prefix": "list/sub/"}], rolled
listed = s3.list_objects_v2(Bucket=bucket, Prefix="s3/")["Contents"]
sizes = {o["Key"]: o["Size"] for o in listed}
assert sizes == {"s3/big.bin": len(big), "s3/empty": 0, "s3/small.txt": len(small)}, sizes

# A key with spaces and UTF-8, listed back exactly (botocore asks for encoding-type=url).
odd = "s3/dir with space/\u00fcber+plus.txt"
s3.put_object(Bucket=bucket, Key=odd, Body=b"odd")
assert s3.get_object(Bucket=bucket, Key=odd)["Body"].read() == b"odd"
assert odd in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="s3/d")["Contents"]]

# A presigned (SigV4) GET, fetched without any SDK.
signer = client(signature_version="s3v4")
url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "s3/small.txt"},
                                    ExpiresIn=300)
assert urllib.request.urlopen(url).read() == small
try:
    urllib.request.urlopen(url.replace("small.txt", "empty"))
    raise AssertionError("a presigned URL for another key was accepted")
except urllib.error.HTTPError as e:
    assert e.code == 403, e.code

# Deleting: one object, a batch (quiet and not), and an absent key (204 all the same).
s3.delete_object(Bucket=bucket, Key="s3/empty")
s3.delete_object(Bucket=bucket, Key="s3/never-written")
done = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "list/k0"}, {"Key": "nope"}]})
assert sorted(d["Key"] for d in done["Deleted"]) == ["list/k0", "nope"], done
quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "list/k1"}], "Quiet": True})
assert "Deleted" not in quiet and "Errors" not in quiet, quiet
expect_error("NoSuchKey", s3.get_object, Bucket=bucket, Key="list/k1")

# What mkv refuses: wrong secret, unknown key, keys it cannot store, what it does not implement.
expect_error("SignatureDoesNotMatch", client(secret_key="not-the-secret").list_buckets)
expect_error("InvalidAccessKeyId", client(key_id="NOBODY").list_buckets)
expect_error("InvalidArgument", s3.put_object, Bucket=bucket, Key="s3/folder/", Body=b"")
expect_error("NotImplemented", s3.get_bucket_acl, Bucket=bucket)
print("boto3: ok")
