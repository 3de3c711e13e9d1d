#!/usr/bin/python3
# PutObjects with aws-chunked bodies and x-amz-checksum-* built by hand against mkv's S3 API
# (tests/integration/s3_chunked_test.cpp runs it against a real cluster): Debian's botocore (1.29)
# sends none of them by itself. The request is signed by botocore's SigV4 signer with the
# STREAMING-* mode as its x-amz-content-sha256; the chunk and trailer signatures are computed here
# with hmac and hashlib as docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
# sigv4-streaming-trailers.html describe them. Exits non-zero at the first surprise.
#   chunked_check.py ENDPOINT ACCESS_KEY SECRET BUCKET
import base64
import hashlib
import hmac
import http.client
import re
import sys
import zlib
from urllib.parse import urlsplit

import boto3
import botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

endpoint, access_key, secret, bucket = sys.argv[1:5]
host = urlsplit(endpoint).netloc
region = "us-east-1"
empty_sha256 = hashlib.sha256(b"").hexdigest()

s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                  aws_secret_access_key=secret, region_name=region,
                  config=Config(retries={"max_attempts": 1}))


# The bytes the C++ test expects: byte i is i * 7 % 251.
def pattern(n):
    period = bytes(i * 7 % 251 for i in range(251))
    return (period * (n // 251 + 1))[:n]


def crc32c(data):
    table = crc32c.table
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


crc32c.table = _crc32c_table()
assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


# Returns the x-amz-checksum-<algorithm> value of data: base64 of the digest, a CRC big-endian.
def checksum(algorithm, data):
    if algorithm == "crc32":
        digest = zlib.crc32(data).to_bytes(4, "big")
    elif algorithm == "crc32c":
        digest = crc32c(data).to_bytes(4, "big")
    else:
        digest = hashlib.new(algorithm, data).digest()
    return base64.b64encode(digest).decode()


assert checksum("crc32", b"hello") == "NhCmhg=="


class ModeSigner(S3SigV4Auth):
    """botocore's S3 SigV4 signer, signing the x-amz-content-sha256 it is given (a STREAMING-*
    mode) instead of the body's SHA-256; None signs the body's SHA-256 as usual."""

    def __init__(self, mode):
        super().__init__(Credentials(access_key, secret), "s3", region)
        self.mode = mode

    def payload(self, request):
        return self.mode if self.mode is not None else super().payload(request)


class Signed:
    """A signed request's headers, and what its chunks are signed with."""

    def __init__(self, key, headers, mode, body=b""):
        request = AWSRequest(method="PUT", url=f"{endpoint}/{bucket}/{key}", data=body,
                             headers=dict(headers, Host=host))
        ModeSigner(mode).add_auth(request)
        self.headers = dict(request.headers.items())
        self.seed = self.headers["Authorization"].split("Signature=")[1]
        self.timestamp = request.context["timestamp"]
        self.scope = f"{self.timestamp[:8]}/{region}/s3/aws4_request"
        k = hmac.new(b"AWS4" + secret.encode(), self.timestamp[:8].encode(), "sha256").digest()
        for part in (region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), "sha256").digest()
        self.signing_key = k

    def sign(self, text):
        return hmac.new(self.signing_key, text.encode(), "sha256").hexdigest()


def tampered(signature):
    return ("0" if signature[0] != "0" else "1") + signature[1:]


# Returns the aws-chunked body of data in signed chunks of chunk_size (and the 0-size last
# chunk), the chunk numbered tamper (from 0) with a wrong signature; with trailer (name, value)
# the body ends with it and its signature (-PAYLOAD-TRAILER), the trailer signature wrong when
# tamper_trailer.
def signed_chunks(signed, data, chunk_size, tamper=None, trailer=None, tamper_trailer=False):
    pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    previous = signed.seed
    body = bytearray()
    for n, piece in enumerate(pieces):
        signature = signed.sign("\n".join([
            "AWS4-HMAC-SHA256-PAYLOAD", signed.timestamp, signed.scope, previous, empty_sha256,
            hashlib.sha256(piece).hexdigest()]))
        previous = signature
        if n == tamper:
            signature = tampered(signature)
        body += f"{len(piece):x};chunk-signature={signature}\r\n".encode() + piece
        body += b"\r\n" if piece else b""
    if trailer:
        name, value = trailer
        canonical = f"{name}:{value}\n".encode()
        signature = signed.sign("\n".join([
            "AWS4-HMAC-SHA256-TRAILER", signed.timestamp, signed.scope, previous,
            hashlib.sha256(canonical).hexdigest()]))
        if tamper_trailer:
            signature = tampered(signature)
        body += f"{name}:{value}\r\nx-amz-trailer-signature:{signature}\r\n".encode()
    return bytes(body + b"\r\n")


# Returns the aws-chunked body of data in unsigned chunks, ending with the trailer, as botocore
# (1.36 and later) writes it.
def unsigned_chunks(data, chunk_size, trailer):
    body = bytearray()
    for i in range(0, len(data), chunk_size):
        piece = data[i:i + chunk_size]
        body += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    name, value = trailer
    return bytes(body + f"0\r\n{name}:{value}\r\n\r\n".encode())


# Sends a PUT with exactly these headers and body; returns (status, headers, body). A server that
# answers before reading the whole body may close its side: the answer is read all the same.
def send(key, headers, body):
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.putrequest("PUT", f"/{bucket}/{key}", skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def error_code(answer):
    found = re.search(rb"<Code>(.*?)</Code>", answer[2])
    return found.group(1).decode() if found else None


def expect_ok(what, answer, data):
    status, headers, body = answer
    assert status == 200, f"{what}: {status} {body!r}"
    etag = '"%s"' % hashlib.md5(data).hexdigest()
    assert headers.get("etag") == etag, f"{what}: ETag {headers.get('etag')}, MD5 {etag}"
    return headers


def expect_error(what, answer, status, code):
    assert answer[0] == status and error_code(answer) == code, \
        f"{what}: expected {status} {code}, got {answer[0]} {answer[2]!r}"


def expect_object(key, data):
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == data, f"{key}: the object read back differs"
    assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), got["ETag"]
    return got


def expect_absent(key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "404", e
        return
    raise AssertionError(f"{key} was stored")


# Puts data in signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD); returns the answer.
def put_signed(key, data, chunk_size=64 * 1024, tamper=None, extra=None, decoded=None):
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    # The body's length does not depend on the signatures: sign with a placeholder body first.
    body_length = len(signed_chunks(Signed(key, {}, mode), data, chunk_size))
    headers = {"Content-Encoding": "aws-chunked", "Content-Length": str(body_length),
               "Content-Type": "application/x-test"}
    if decoded != "absent":
        headers["x-amz-decoded-content-length"] = str(len(data) if decoded is None else decoded)
    headers.update(extra or {})
    signed = Signed(key, headers, mode)
    body = signed_chunks(signed, data, chunk_size, tamper)
    assert len(body) == body_length
    return send(key, signed.headers, body)


# (1) Signed chunks: 3 x 64 KiB and a tail, as minio clients send them over plain HTTP.
data = pattern(3 * 64 * 1024 + 1000)
expect_ok("signed chunks", put_signed("signed.bin", data), data)
got = expect_object("signed.bin", data)
# aws-chunked is how the body came, not the object's encoding.
assert got["ContentType"] == "application/x-test", got["ContentType"]
assert "ContentEncoding" not in got, got.get("ContentEncoding")
# A chunk size that is not a power of two, one chunk, and no data at all.
odd = pattern(100000)
expect_ok("signed chunks of 8000", put_signed("odd.bin", odd, chunk_size=8000), odd)
expect_object("odd.bin", odd)
expect_ok("one signed chunk", put_signed("one.bin", b"x"), b"x")
expect_object("one.bin", b"x")
expect_ok("no data", put_signed("empty", b""), b"")
expect_object("empty", b"")
# Bodies of several pieces (mkv relays 512 KiB at a time), in chunks that do not divide them.
big = pattern(3 * 1024 * 1024 + 17)
expect_ok("3 MiB in signed chunks", put_signed("big.bin", big), big)
expect_object("big.bin", big)
expect_ok("3 MiB in signed chunks of 100000",
          put_signed("big-odd.bin", big, chunk_size=100000), big)
expect_object("big-odd.bin", big)
# Content-Encoding aws-chunked,gzip: the object keeps gzip.
zipped = b"not really gzip"
expect_ok("aws-chunked,gzip",
          put_signed("zipped", zipped, extra={"Content-Encoding": "aws-chunked,gzip"}), zipped)
assert expect_object("zipped", zipped)["ContentEncoding"] == "gzip"

# (2) A tampered chunk signature: 403 and nothing stored, whichever chunk it is; an overwrite
# keeps the old value, even when only the last (0-size) chunk's signature is wrong, after every
# byte of data arrived.
expect_error("tampered chunk 1", put_signed("tampered.bin", data, tamper=1), 403,
             "SignatureDoesNotMatch")
expect_absent("tampered.bin")
expect_error("tampered first chunk", put_signed("tampered-first.bin", data, tamper=0), 403,
             "SignatureDoesNotMatch")
expect_absent("tampered-first.bin")
old = b"the old value"
s3.put_object(Bucket=bucket, Key="overwrite.bin", Body=old)
expect_error("tampered last chunk", put_signed("overwrite.bin", data, tamper=4), 403,
             "SignatureDoesNotMatch")
expect_object("overwrite.bin", old)
expect_error("tampered last chunk, new key", put_signed("tampered-last.bin", data, tamper=4), 403,
             "SignatureDoesNotMatch")
expect_absent("tampered-last.bin")
big_chunks = (len(big) + 64 * 1024 - 1) // (64 * 1024)
expect_error("3 MiB, tampered last chunk",
             put_signed("big-tampered-last.bin", big, tamper=big_chunks), 403,
             "SignatureDoesNotMatch")
expect_absent("big-tampered-last.bin")
expect_error("3 MiB, tampered last data chunk",
             put_signed("big-tampered-data.bin", big, tamper=big_chunks - 1), 403,
             "SignatureDoesNotMatch")
expect_absent("big-tampered-data.bin")

# (6) x-amz-decoded-content-length is required; the data must be as long as it says.
expect_error("no decoded length", put_signed("no-length.bin", data, decoded="absent"), 411,
             "MissingContentLength")
expect_absent("no-length.bin")
expect_error("data shorter than its decoded length",
             put_signed("short.bin", data, decoded=len(data) + 1), 400, "IncompleteBody")
expect_absent("short.bin")
expect_error("data longer than its decoded length",
             put_signed("long.bin", data, decoded=len(data) - 1), 400, "InvalidRequest")
expect_absent("long.bin")


# (3) Unsigned chunks with a checksum trailer, as 2025-and-later AWS SDKs send them.
def put_trailer(key, data, algorithm, value=None, chunk_size=64 * 1024, sdk=None):
    name = f"x-amz-checksum-{algorithm}"
    body = unsigned_chunks(data, chunk_size, (name, value or checksum(algorithm, data)))
    headers = {"Content-Encoding": "aws-chunked", "Content-Length": str(len(body)),
               "x-amz-decoded-content-length": str(len(data)),
               "x-amz-sdk-checksum-algorithm": sdk or algorithm.upper(), "x-amz-trailer": name}
    signed = Signed(key, headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    return send(key, signed.headers, body)


for algorithm in ("crc32", "crc32c", "sha256"):
    key = f"trailer-{algorithm}.bin"
    headers = expect_ok(f"{algorithm} trailer", put_trailer(key, data, algorithm), data)
    echoed = headers.get(f"x-amz-checksum-{algorithm}")
    assert echoed == checksum(algorithm, data), f"{algorithm}: echoed {echoed}"
    expect_object(key, data)
expect_ok("3 MiB, crc32c trailer, 1 MiB chunks",
          put_trailer("big-trailer.bin", big, "crc32c", chunk_size=1024 * 1024), big)
expect_object("big-trailer.bin", big)
small = b"hello"
expect_ok("a small crc32 trailer", put_trailer("trailer-small.txt", small, "crc32", chunk_size=3),
          small)
expect_object("trailer-small.txt", small)

# (4) A wrong trailer checksum: BadDigest, nothing stored, an overwrite keeps the old value.
wrong = checksum("crc32", b"something else")
expect_error("wrong crc32 trailer", put_trailer("bad-trailer.bin", data, "crc32", wrong), 400,
             "BadDigest")
expect_absent("bad-trailer.bin")
expect_error("3 MiB, wrong crc32 trailer",
             put_trailer("big-bad-trailer.bin", big, "crc32", wrong, chunk_size=100000), 400,
             "BadDigest")
expect_absent("big-bad-trailer.bin")
expect_error("wrong sha256 trailer on an overwrite",
             put_trailer("overwrite.bin", data, "sha256", checksum("sha256", b"x")), 400,
             "BadDigest")
expect_object("overwrite.bin", old)
expect_error("x-amz-sdk-checksum-algorithm that is not the trailer's",
             put_trailer("mismatch.bin", data, "crc32", sdk="SHA256"), 400, "InvalidRequest")
expect_absent("mismatch.bin")


# Signed chunks with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
def put_signed_trailer(key, data, value=None, tamper_trailer=False):
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    trailer = ("x-amz-checksum-crc32c", value or checksum("crc32c", data))
    body_length = len(signed_chunks(Signed(key, {}, mode), data, 64 * 1024, trailer=trailer))
    headers = {"Content-Encoding": "aws-chunked", "Content-Length": str(body_length),
               "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": "x-amz-checksum-crc32c"}
    signed = Signed(key, headers, mode)
    body = signed_chunks(signed, data, 64 * 1024, trailer=trailer, tamper_trailer=tamper_trailer)
    return send(key, signed.headers, body)


headers = expect_ok("signed trailer", put_signed_trailer("signed-trailer.bin", data), data)
assert headers.get("x-amz-checksum-crc32c") == checksum("crc32c", data), headers
expect_object("signed-trailer.bin", data)
expect_error("tampered trailer signature",
             put_signed_trailer("bad-signed-trailer.bin", data, tamper_trailer=True), 403,
             "SignatureDoesNotMatch")
expect_absent("bad-signed-trailer.bin")
expect_error("wrong signed trailer checksum",
             put_signed_trailer("bad-signed-sum.bin", data, checksum("crc32c", b"x")), 400,
             "BadDigest")
expect_absent("bad-signed-sum.bin")


# (5) A body as sent with an x-amz-checksum-* header: checked, echoed; a wrong one stores nothing.
def put_with_header(key, data, algorithm, value):
    headers = {"Content-Length": str(len(data)), f"x-amz-checksum-{algorithm}": value}
    signed = Signed(key, headers, None, body=data)
    return send(key, signed.headers, data)


summed = pattern(300000)
headers = expect_ok("sha256 header", put_with_header("header-sum.bin", summed, "sha256",
                                                     checksum("sha256", summed)), summed)
assert headers.get("x-amz-checksum-sha256") == checksum("sha256", summed), headers
expect_object("header-sum.bin", summed)
expect_error("wrong sha256 header",
             put_with_header("bad-header-sum.bin", summed, "sha256", checksum("sha256", b"x")),
             400, "BadDigest")
expect_absent("bad-header-sum.bin")
expect_error("3 MiB, wrong crc32c header",
             put_with_header("big-bad-header-sum.bin", big, "crc32c", checksum("crc32c", b"x")),
             400, "BadDigest")
expect_absent("big-bad-header-sum.bin")
expect_error("wrong crc32 header on an overwrite",
             put_with_header("overwrite.bin", summed, "crc32", checksum("crc32", b"x")), 400,
             "BadDigest")
expect_object("overwrite.bin", old)
expect_error("malformed checksum header",
             put_with_header("malformed-sum.bin", summed, "crc32", "abc"), 400,
             "InvalidArgument")
expect_absent("malformed-sum.bin")

# botocore itself sends the header when asked to (ChecksumAlgorithm, over plain HTTP).
put = s3.put_object(Bucket=bucket, Key="boto-sum.txt", Body=b"checked by boto",
                    ChecksumAlgorithm="SHA256")
assert put.get("ChecksumSHA256") == checksum("sha256", b"checked by boto"), put
expect_object("boto-sum.txt", b"checked by boto")
try:
    s3.put_object(Bucket=bucket, Key="boto-bad-sum.txt", Body=b"checked by boto",
                  ChecksumCRC32=checksum("crc32", b"x"))
    raise AssertionError("a wrong ChecksumCRC32 was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "BadDigest", e
expect_absent("boto-bad-sum.txt")

print("chunked: ok")
