"""The Availability Zones of the AWS Regions that offline runs (the mocks, the plan) know.

`pulumi up` asks AWS which AZs a Region offers (components/network.py) and fails when the stack
asks for more; offline, the mocks answer from this table, so the plan and the tests fail alike. A
Region not listed here cannot be checked offline: the mocks then answer with as many AZs as the
largest Region listed, and the plan says it could not check `availabilityZones`.

Source: AWS, "AWS Regions and Availability Zones", the AZ IDs of each Region
(https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html),
checked on AZS_CHECKED. Only Regions checked against that page are listed; add a Region with its
AZ IDs from the same page, and the date. AZ IDs name the same physical zone in every account;
the AZ names (us-east-1a, ...) map to them per account, so the mocks name them in order.
"""

from __future__ import annotations

AZS_CHECKED = "2026-12-04"
AZS_SOURCE = (
    "https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html"
)
REGION_AZ_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
    "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
}
# What the mocks answer for a Region not listed: no Region has more AZs than the largest listed,
# so offline nothing is refused that AWS might accept.
UNLISTED_REGION_AZS = max(len(ids) for ids in REGION_AZ_IDS.values())


def region_az_count(region: str) -> int | None:
    """How many AZs `region` offers, or None when the table does not list it."""
    ids = REGION_AZ_IDS.get(region)
    return len(ids) if ids is not None else None


def az_ids(region: str, count: int) -> list[str]:
    """The first `count` AZ IDs of `region`: the table's, else made up from the Region's name
    (AWS's own abbreviations, such as apne1 for ap-northeast-1, follow no rule to derive)."""
    known = REGION_AZ_IDS.get(region, ())
    return [*known[:count], *(f"{region}-az{n}" for n in range(len(known) + 1, count + 1))]
