#!/usr/bin/python3
# Multipart uploads through mkv's S3 API with Debian's boto3 (tests/integration/s3_multipart_test.cpp
# runs it against a real cluster, one mode per test case). Exits non-zero at the first surprise;
# prints "<mode>: ok" at the end, and what the C++ test needs on lines of its own.
#   multipart_check.py ENDPOINT ACCESS_KEY SECRET BUCKET NATIVE_PORT MODE [ARGS...]
# Modes:
#   transfer KEY              upload_file and download_file of 20 MiB in 8 MiB parts, with
#                             ContentType and Metadata
#   api KEY                   every multipart call by hand, its errors, and what Complete leaves
#                             in the index (through the native listing on NATIVE_PORT)
#   abort KEY                 AbortMultipartUpload, and uploads that do not exist
#   expiry KEY                an upload with one part disappears by itself (serve was started
#                             with --s3-upload-expiry 4)
#   begin KEY                 creates an upload and uploads part 1 (5 MiB): prints "upload ID"
#   unfinishable KEY ID       with part 1's volumes down, Complete (part 1 alone) fails and
#                             keeps the upload and its part
#   finish KEY ID             after a restart: the upload and part 1 are still there; uploads
#                             part 2 and completes; prints "object-md5 HEX"
#   odd KEY                   an upload to a key with spaces, UTF-8 and a plus
#   racing KEY                two Completes of one upload at once
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, access_key, secret, bucket, native_port, mode = sys.argv[1:7]
args = sys.argv[7:]
MiB = 1024 * 1024

s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                  aws_secret_access_key=secret, region_name="us-east-1",
                  config=Config(retries={"max_attempts": 1}))


def expect_error(code, status, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert got == code, f"{call.__name__}: expected {code}, got {got}: {e}"
        assert got_status == status, f"{call.__name__}: {code} with status {got_status}, not {status}"
        return e
    raise AssertionError(f"{call.__name__}: expected {code}, it succeeded")


def quoted_md5(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def multipart_etag(parts):
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(parts))


def uploads(**kwargs):
    return [(u["Key"], u["UploadId"])
            for u in s3.list_multipart_uploads(Bucket=bucket, **kwargs).get("Uploads", [])]


def parts(key, upload_id):
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])
    return [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed]


def native_keys():
    url = "http://127.0.0.1:%s/?prefix=&limit=10000" % native_port
    return json.loads(urllib.request.urlopen(url).read())["keys"]


def create(key, **kwargs):
    made = s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)
    assert made["Bucket"] == bucket and made["Key"] == key, made
    assert re.fullmatch("[0-9a-f]{32}", made["UploadId"]), made["UploadId"]
    return made["UploadId"]


def upload(key, upload_id, number, data):
    done = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
    assert done["ETag"] == quoted_md5(data), (number, done["ETag"], quoted_md5(data))
    return done["ETag"]


def complete(key, upload_id, listed):
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in listed]})


def transfer(key):
    data = os.urandom(20 * MiB)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    with tempfile.TemporaryDirectory() as tmp:
        source, back = os.path.join(tmp, "source"), os.path.join(tmp, "back")
        with open(source, "wb") as f:
            f.write(data)
        s3.upload_file(source, bucket, key, Config=config,
                       ExtraArgs={"ContentType": "text/plain", "Metadata": {"a": "b"}})
        s3.download_file(bucket, key, back, Config=config)
        with open(back, "rb") as f:
            assert f.read() == data, "download_file did not give back the bytes upload_file sent"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data), head
    assert head["ContentType"] == "text/plain", head
    assert head["Metadata"] == {"a": "b"}, head["Metadata"]
    chunks = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
    assert head["ETag"] == multipart_etag(chunks), (head["ETag"], multipart_etag(chunks))
    print("object-md5", hashlib.md5(data).hexdigest())


def api(key):
    upload_id = create(key)
    first = os.urandom(5 * MiB)
    second = b"the second and last part"
    first_etag = upload(key, upload_id, 1, first)
    upload(key, upload_id, 2, second)
    assert parts(key, upload_id) == [(1, len(first), first_etag),
                                     (2, len(second), quoted_md5(second))], parts(key, upload_id)
    assert (key, upload_id) in uploads(), uploads()
    assert uploads(Prefix="no-such-prefix/") == [], uploads(Prefix="no-such-prefix/")
    assert (key, upload_id) in uploads(Prefix=key[:2]), uploads(Prefix=key[:2])
    # The parts are blobs in the index (mkv/s3_multipart.h: under .mkv/parts/), which the
    # native listing shows; S3 shows neither them nor the object before Complete.
    keys = native_keys()
    assert any(k.startswith(".mkv/parts/") for k in keys), keys
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == [bucket], names
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == ["seed"], listed
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key=key)
    for bad in [0, 10001]:
        expect_error("InvalidArgument", 400, s3.upload_part, Bucket=bucket, Key=key,
                     UploadId=upload_id, PartNumber=bad, Body=b"x")

    # Part 2 again, other bytes: it replaces the first part 2.
    second = b"part two, uploaded again with other bytes"
    second_etag = upload(key, upload_id, 2, second)
    assert parts(key, upload_id) == [(1, len(first), first_etag),
                                     (2, len(second), second_etag)], parts(key, upload_id)

    # Complete refuses a list out of order, a wrong ETag, and a small part that is not the last;
    # the upload is still there after each.
    expect_error("InvalidPartOrder", 400, complete, key=key, upload_id=upload_id,
                 listed=[(2, second_etag), (1, first_etag)])
    expect_error("InvalidPart", 400, complete, key=key, upload_id=upload_id,
                 listed=[(1, first_etag), (2, quoted_md5(b"not part two"))])
    expect_error("InvalidPart", 400, complete, key=key, upload_id=upload_id,
                 listed=[(1, first_etag), (3, second_etag)])
    small_key = key + "-small"
    small_id = create(small_key)
    small = [b"small one", b"small two"]
    small_etags = [upload(small_key, small_id, n + 1, small[n]) for n in range(2)]
    expect_error("EntityTooSmall", 400, complete, key=small_key, upload_id=small_id,
                 listed=[(1, small_etags[0]), (2, small_etags[1])])
    assert sorted(uploads()) == sorted([(key, upload_id), (small_key, small_id)]), uploads()
    assert len(parts(key, upload_id)) == 2

    # Pages of one: parts by number, uploads by key.
    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1)
    assert [p["PartNumber"] for p in page["Parts"]] == [1] and page["IsTruncated"], page
    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1,
                         PartNumberMarker=page["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in page["Parts"]] == [2] and not page["IsTruncated"], page
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert [u["UploadId"] for u in page["Uploads"]] == [upload_id] and page["IsTruncated"], page
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1, KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])
    assert [u["UploadId"] for u in page["Uploads"]] == [small_id], page
    assert not page["IsTruncated"], page

    # A part whose bytes are not what Content-MD5 says is refused and replaces nothing.
    expect_error("BadDigest", 400, s3.upload_part, Bucket=bucket, Key=key, UploadId=upload_id,
                 PartNumber=2, Body=b"corrupted", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==")
    assert parts(key, upload_id)[1] == (2, len(second), second_etag), parts(key, upload_id)
    # An upload completes only into its own key.
    expect_error("NoSuchUpload", 404, complete, key=key + "-other", upload_id=upload_id,
                 listed=[(1, first_etag), (2, second_etag)])

    done = complete(key, upload_id, [(1, first_etag), (2, second_etag)])
    assert done["ETag"] == multipart_etag([first, second]), (done["ETag"], multipart_etag([first, second]))
    assert done["Key"] == key and done["Bucket"] == bucket, done
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == first + second, "the object is not the parts one after another"
    assert got["ETag"] == done["ETag"], got["ETag"]
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(first) + len(second), head
    assert head["ETag"] == done["ETag"], head

    # The upload is over.
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key=key, UploadId=upload_id)
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=bucket, Key=key,
                 UploadId=upload_id)
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key=key, UploadId=upload_id,
                 PartNumber=3, Body=b"late")
    assert uploads() == [(small_key, small_id)], uploads()
    aborted = s3.abort_multipart_upload(Bucket=bucket, Key=small_key, UploadId=small_id)
    assert aborted["ResponseMetadata"]["HTTPStatusCode"] == 204, aborted
    assert uploads() == [], uploads()
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key=small_key)

    # Nothing of the parts is left in the index: only the test's seed and the object.
    keys = native_keys()
    assert sorted(keys) == sorted([bucket + "/seed", bucket + "/" + key]), keys
    print("object-md5", hashlib.md5(first + second).hexdigest())

    # The object is one like any other: listed with its size and ETag, conditions compare that
    # ETag, a range reads across the parts' boundary.
    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed[key]["ETag"] == done["ETag"] and listed[key]["Size"] == len(first + second), listed
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key=key, IfNoneMatch=done["ETag"])
    assert s3.get_object(Bucket=bucket, Key=key, IfMatch=done["ETag"])["Body"].read() == first + second
    boundary = "bytes=%d-%d" % (len(first) - 3, len(first) + 2)
    got = s3.get_object(Bucket=bucket, Key=key, Range=boundary)["Body"].read()
    assert got == (first + second)[len(first) - 3:len(first) + 3], got
    # A copy is one new blob, and its ETag the MD5 of its bytes (as S3 has it); so is the ETag
    # of the object overwritten by one PutObject.
    whole = quoted_md5(first + second)
    copied = s3.copy_object(Bucket=bucket, Key=key + "-copy", CopySource={"Bucket": bucket, "Key": key})
    assert copied["CopyObjectResult"]["ETag"] == whole, (copied["CopyObjectResult"]["ETag"], whole)
    assert s3.head_object(Bucket=bucket, Key=key + "-copy")["ETag"] == whole
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"one PutObject")
    assert put["ETag"] == quoted_md5(b"one PutObject"), put["ETag"]
    assert s3.head_object(Bucket=bucket, Key=key)["ETag"] == put["ETag"]


def abort(key):
    upload_id = create(key)
    upload(key, upload_id, 1, b"a part that will be dropped")
    aborted = s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert aborted["ResponseMetadata"]["HTTPStatusCode"] == 204, aborted
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key=key, UploadId=upload_id,
                 PartNumber=2, Body=b"too late")
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key=key, UploadId=upload_id)
    expect_error("NoSuchUpload", 404, complete, key=key, upload_id=upload_id,
                 listed=[(1, quoted_md5(b"a part that will be dropped"))])
    assert uploads() == [], uploads()
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key=key)
    # Upload IDs that name no upload: not 32 hex digits, and 32 hex digits never handed out.
    for bad in ["nope", "0123456789abcdef0123456789abcdef", upload_id.upper()]:
        expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key=key, UploadId=bad)
        expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key=key, UploadId=bad,
                     PartNumber=1, Body=b"x")
        expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=bucket, Key=key,
                     UploadId=bad)
    # An upload belongs to its key: another key does not reach it.
    other_id = create(key)
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key=key + "-other",
                 UploadId=other_id)
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=other_id)
    keys = native_keys()
    assert keys == [bucket + "/seed"], keys


def expiry(key):
    upload_id = create(key)
    upload(key, upload_id, 1, b"a part nobody completes")
    assert uploads() == [(key, upload_id)], uploads()
    deadline = time.monotonic() + 15
    while uploads() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert uploads() == [], "the upload did not expire within 15 s: %s" % uploads()
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key=key, UploadId=upload_id)
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key=key, UploadId=upload_id,
                 PartNumber=2, Body=b"too late")
    # The sweep deletes the upload's record first, then its parts: they go a moment later.
    deadline = time.monotonic() + 5
    while native_keys() != [bucket + "/seed"] and time.monotonic() < deadline:
        time.sleep(0.1)
    keys = native_keys()
    assert keys == [bucket + "/seed"], keys


def odd(key):
    # A key with a space, UTF-8 and a plus: listed back exactly (botocore asks ListMultipartUploads
    # for encoding-type=url and decodes what it gets).
    upload_id = create(key, Metadata={"note": "odd"})
    data = [os.urandom(5 * MiB), b"last"]
    etags = [upload(key, upload_id, n + 1, data[n]) for n in range(2)]
    assert uploads() == [(key, upload_id)], uploads()
    assert uploads(Prefix=key[:6]) == [(key, upload_id)], uploads(Prefix=key[:6])
    assert [p[0] for p in parts(key, upload_id)] == [1, 2], parts(key, upload_id)
    done = complete(key, upload_id, [(1, etags[0]), (2, etags[1])])
    assert done["Key"] == key, done
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == data[0] + data[1]
    assert got["Metadata"] == {"note": "odd"}, got["Metadata"]
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert key in listed, listed


def racing(key):
    # Two Completes of one upload at once: each answers the object or NoSuchUpload (at least one
    # the object), and the object is whole.
    upload_id = create(key)
    data = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"last"]
    etags = [upload(key, upload_id, n + 1, data[n]) for n in range(len(data))]
    outcomes = []
    barrier = threading.Barrier(2)

    def one():
        barrier.wait()
        try:
            outcomes.append(complete(key, upload_id, list(enumerate(etags, 1)))["ETag"])
        except botocore.exceptions.ClientError as e:
            outcomes.append(e.response.get("Error", {}).get("Code", "Unknown"))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("racing completes:", outcomes)
    assert multipart_etag(data) in outcomes, outcomes
    assert all(o in (multipart_etag(data), "NoSuchUpload") for o in outcomes), outcomes
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(data)
    assert uploads() == [], uploads()
    keys = native_keys()
    assert sorted(keys) == sorted([bucket + "/seed", bucket + "/" + key]), keys


# The bytes of part 1 in begin and finish: 5 MiB, byte i is i * 7 % 251.
def pattern(n):
    period = bytes(i * 7 % 251 for i in range(251))
    return (period * (n // 251 + 1))[:n]


def begin(key):
    upload_id = create(key, ContentType="application/x-restart")
    upload(key, upload_id, 1, pattern(5 * MiB))
    print("upload", upload_id)


def unfinishable(key, upload_id):
    first = pattern(5 * MiB)
    bodies = []
    s3.meta.events.register("after-call.s3.CompleteMultipartUpload",
                            lambda http_response, **kwargs: bodies.append(http_response.content))
    try:
        complete(key, upload_id, [(1, quoted_md5(first))])
        raise AssertionError("Complete succeeded with the volumes down")
    except botocore.exceptions.ClientError as e:
        # The error came after the 200 (botocore 1.29 then says only "Unknown"): the body is the
        # XML declaration, maybe spaces, and an <Error> every client retries.
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 200, e.response
        assert bodies and re.search(b"<Error><Code>ServiceUnavailable</Code>",
                                    bodies[-1]), bodies
    assert uploads() == [(key, upload_id)], uploads()
    assert parts(key, upload_id) == [(1, len(first), quoted_md5(first))], parts(key, upload_id)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key=key)


def finish(key, upload_id):
    first = pattern(5 * MiB)
    assert uploads() == [(key, upload_id)], uploads()
    assert parts(key, upload_id) == [(1, len(first), quoted_md5(first))], parts(key, upload_id)
    second = b"part two, after the restart"
    second_etag = upload(key, upload_id, 2, second)
    done = complete(key, upload_id, [(1, quoted_md5(first)), (2, second_etag)])
    assert done["ETag"] == multipart_etag([first, second]), done["ETag"]
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == first + second
    assert got["ContentType"] == "application/x-restart", got["ContentType"]
    assert uploads() == [], uploads()
    print("object-md5", hashlib.md5(first + second).hexdigest())


{"transfer": transfer, "api": api, "abort": abort, "expiry": expiry, "begin": begin,
 "unfinishable": unfinishable, "finish": finish, "odd": odd, "racing": racing}[mode](*args)
print(mode + ": ok")
