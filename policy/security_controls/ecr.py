"""ECR controls: repositories scan images on push, keep tags immutable and expire old images."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from .environment import everywhere
from .props import as_list, get, json_document, of_types, peek, referring, truthy

Report = Callable[..., None]

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
# IMMUTABLE_WITH_EXCLUSION lets the excluded tags be overwritten, so it does not count.
IMMUTABLE = "IMMUTABLE"


def scan_on_push(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != REPOSITORY:
        return
    if not truthy(get(args.props, "imageScanningConfiguration", "scanOnPush")):
        report_violation(
            "Images pushed to this repository are not scanned for vulnerabilities. Set "
            "image_scanning_configuration={'scan_on_push': True}."
        )


def immutable_tags(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != REPOSITORY:
        return
    mutability = get(args.props, "imageTagMutability", default="MUTABLE")
    if mutability != IMMUTABLE:
        report_violation(
            f"Image tags in this repository can be overwritten (imageTagMutability {mutability}), "
            "so a tag no longer names one image. Set image_tag_mutability='IMMUTABLE'."
        )


def lifecycle_policy(args: StackValidationArgs, report_violation: Report) -> None:
    for repository in of_types(args.resources, REPOSITORY):
        policies = referring(args.resources, LIFECYCLE_POLICY, "repository", repository)
        if not policies:
            report_violation(
                "This ECR repository has no lifecycle policy, so old images pile up (and are "
                "billed) forever. Add an aws.ecr.LifecyclePolicy for it.",
                repository.urn,
            )
            continue
        for policy in policies:
            text = peek(policy.props, "policy")
            if not isinstance(text, str):
                continue  # not known until deployed
            document = json_document(text)
            if document is None or not as_list(document.get("rules")):
                report_violation(
                    "This ECR lifecycle policy has no rules, so it expires nothing.", policy.urn
                )


POLICIES: list[Any] = [
    *everywhere(
        name="ecr-scan-on-push",
        control="ECR.1",
        description="ECR.1: ECR repositories scan images on push.",
        validate=scan_on_push,
        severity=Severity.HIGH,
        remediation="image_scanning_configuration={'scan_on_push': True} on the repository.",
    ),
    *everywhere(
        name="ecr-immutable-tags",
        control="ECR.2",
        description="ECR.2: ECR repositories have immutable image tags.",
        validate=immutable_tags,
        severity=Severity.MEDIUM,
        remediation="image_tag_mutability='IMMUTABLE' on the repository; tag each build uniquely.",
    ),
    *everywhere(
        name="ecr-lifecycle-policy",
        control="ECR.3",
        description="ECR.3: every ECR repository in the stack has a lifecycle policy with rules.",
        validate=lifecycle_policy,
        severity=Severity.MEDIUM,
        remediation="Add an aws.ecr.LifecyclePolicy for the repository (e.g. keep the last 10 "
        "images).",
        stack=True,
    ),
]
