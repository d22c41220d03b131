"""The account, the default region, and deterministic IDs in AWS's shapes.

Every made-up value is a hash of what identifies the resource (its type and logical name, a
repository and tag), so the same program gets the same IDs on every run and the plan's snapshots
only change when the program does.
"""

from __future__ import annotations

import hashlib

ACCOUNT_ID = "123456789012"  # AWS's own example account ID, in its documentation
# Who the mocks' caller is: a session of this role (getCallerIdentity, getSessionContext).
CALLER_ROLE = "deployer"
CALLER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{CALLER_ROLE}"
DEFAULT_REGION = "us-east-1"


def hex_id(*parts: str, n: int = 17) -> str:
    """`n` hex digits from `parts`: 17 is the length of EC2's IDs (vpc-0123456789abcdef0)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def uuid_id(seed: str) -> str:
    """A UUID-shaped ID (KMS keys, ACM certificates, subscriptions) from `seed`."""
    h = hex_id(seed, n=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def public_ip(h: str) -> str:
    """A public IPv4 address in an AWS range (54.0.0.0/8) from the hex digest `h`."""
    return f"54.{int(h[0:2], 16)}.{int(h[2:4], 16)}.{int(h[4:6], 16) or 1}"
