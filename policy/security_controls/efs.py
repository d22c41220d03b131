"""EFS: file systems are encrypted and backed up, access points fix the user and a directory.

EFS.1 and EFS.8 (encrypted at rest) cost nothing and apply everywhere; EFS.2 (automatic backups)
costs the backups' storage, so it is mandatory in production and advisory elsewhere, as the
program turns backups on with deletionProtection. EFS.3 (an access point's root directory is not
the file system's /) and EFS.4 (an access point enforces a user identity) apply everywhere.
EFS.6 (no mount target in a subnet that gives public IPs on launch) needs no policy of its own:
ec2-subnet-no-auto-public-ip (EC2.15) refuses every such subnet, and the program puts mount
targets in the private subnets anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from .environment import everywhere, prod_mandatory_else_advisory
from .props import get, of_types, peek, referring, truthy

Report = Callable[..., None]

FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
ENABLED = "ENABLED"


# -- EFS.1, EFS.8 ---------------------------------------------------------------------------------
def encrypted(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != FILE_SYSTEM:
        return
    if not truthy(get(args.props, "encrypted")):
        report_violation(
            "This EFS file system stores its files unencrypted (EFS encrypts only at creation, "
            "so fixing it means a new file system). Set encrypted=True."
        )


# -- EFS.2 ----------------------------------------------------------------------------------------
def backed_up(args: StackValidationArgs, report_violation: Report) -> None:
    for file_system in of_types(args.resources, FILE_SYSTEM):
        policies = referring(args.resources, BACKUP_POLICY, "fileSystemId", file_system)
        statuses = [peek(p.props, "backupPolicy", "status") for p in policies]
        if not any(s == ENABLED for s in statuses):
            report_violation(
                "This EFS file system is not backed up: nothing restores its files after a "
                "mistaken delete. Add an aws.efs.BackupPolicy with status ENABLED "
                "(`pulumi config set deletionProtection true`).",
                file_system.urn,
            )


# -- EFS.3 ----------------------------------------------------------------------------------------
def root_directory(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != ACCESS_POINT:
        return
    path = get(args.props, "rootDirectory", "path", default="/")
    if path == "/":
        report_violation(
            "This EFS access point exposes the whole file system (root directory /). Give it a "
            "directory of its own: root_directory={'path': '/app', 'creation_info': {...}}."
        )


# -- EFS.4 ----------------------------------------------------------------------------------------
def user_identity(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != ACCESS_POINT:
        return
    user = get(args.props, "posixUser", default={})
    if get(user, "uid") is None or get(user, "gid") is None:
        report_violation(
            "This EFS access point lets each client act as whatever user it says. Set "
            "posix_user={'uid': ..., 'gid': ...}, the user the containers run as."
        )


POLICIES: list[Any] = [
    *everywhere(
        name="efs-encrypted",
        control="EFS.1",
        description="EFS.1, EFS.8: EFS file systems are encrypted at rest.",
        validate=encrypted,
        severity=Severity.MEDIUM,
        remediation="encrypted=True on the aws.efs.FileSystem (only at creation).",
    ),
    *prod_mandatory_else_advisory(
        name="efs-backups",
        control="EFS.2",
        description="EFS.2: EFS file systems are backed up automatically (AWS Backup).",
        validate=backed_up,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set deletionProtection true` (an aws.efs.BackupPolicy, "
        "status ENABLED).",
        stack=True,
    ),
    *everywhere(
        name="efs-access-point-root-directory",
        control="EFS.3",
        description="EFS.3: EFS access points have a root directory other than /.",
        validate=root_directory,
        severity=Severity.MEDIUM,
        remediation="root_directory={'path': '/<name>', 'creation_info': {...}} on the access "
        "point.",
    ),
    *everywhere(
        name="efs-access-point-user",
        control="EFS.4",
        description="EFS.4: EFS access points enforce a user identity.",
        validate=user_identity,
        severity=Severity.MEDIUM,
        remediation="posix_user={'uid': ..., 'gid': ...} on the access point.",
    ),
]
