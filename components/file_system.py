"""File system: persistent, shared files for the stack's tasks (EFS), which outlive every task.

- an EFS file system, encrypted at rest (AWS's key for EFS), with elastic throughput (billed by the
  data read and written, nothing when idle), files moving to Infrequent Access after
  `infrequent_access_days` without access and back to Standard on their next access;
- a mount target in each AZ the tasks use, in that AZ's private subnet whatever subnets the tasks
  run in: a subnet that gives public IPs is no place for one (Security Hub EFS.6), and the tasks'
  public subnets reach it inside the VPC;
- its security group, admitting NFS (2049) only from its clients group, which only the tasks that
  mount it carry (and which lets them out to it on that port alone);
- one access point, through which every task mounts it: it acts as the containers' numeric uid:gid
  whatever the client says (EFS.4), rooted at the file system's own directory, never / (EFS.3),
  which it creates owned by that user;
- with `protect` (the stack's deletionProtection): automatic daily backups (AWS Backup's default
  plan, EFS.2) and Pulumi's protect;
- the file system's policy (`restrict_to`, once the tasks' roles exist): only those roles mount it,
  only through its access point and only over TLS; the read-only ones never write. EFS's default
  policy lets any client that reaches a mount target in, anonymously.

A task mounts it through `access()`: the task volume (transit encryption and IAM authorization
through the access point), the clients group, and its task role's grant.
https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import (
    DEFAULT_INFREQUENT_ACCESS_DAYS,
    EFS_VOLUME_PREFIX,
    FILE_SYSTEM_NAME,
    INFREQUENT_ACCESS_DAYS,
    NFS_PORT,
    ROOT_UID,
    check_args,
    user_problem,
)
from components.task_definition import EfsVolume, Mount

MOUNT_ACTION = "elasticfilesystem:ClientMount"
WRITE_ACTION = "elasticfilesystem:ClientWrite"
ROOT_ACTION = "elasticfilesystem:ClientRootAccess"  # never granted: the access point is not root
CLIENT_ACTIONS = (MOUNT_ACTION, WRITE_ACTION, ROOT_ACTION)
# The access point's directory: its user reads, writes and enters it, its group reads and enters,
# others nothing (the tasks all act as the one user).
DIRECTORY_PERMISSIONS = "0750"
# A file read again goes back to Standard storage, where reads cost least.
BACK_TO_STANDARD = "AFTER_1_ACCESS"


def lifecycle_after(days: int) -> str:
    """EFS's name for a transition after `days` days (AFTER_1_DAY, AFTER_30_DAYS, ...)."""
    return f"AFTER_{days}_DAY" + ("S" if days != 1 else "")


def mount_statements(
    name: str,
    file_system_arn: pulumi.Input[str],
    access_point_arn: pulumi.Input[str],
    read_only: bool,
) -> list[dict]:
    """A task role's grant to mount the file system `name` through its access point (and write
    to it unless read-only). The Sid names the file system: IAM wants each unique in a policy, and
    a task may mount several."""
    words = "".join(part.capitalize() for part in name.split("-"))
    return [
        {
            "Sid": f"Mount{words}ThroughItsAccessPoint"
            + ("ReadOnly" if read_only else "ReadWrite"),
            "Effect": "Allow",
            "Action": [MOUNT_ACTION] if read_only else [MOUNT_ACTION, WRITE_ACTION],
            "Resource": file_system_arn,
            "Condition": {"ArnEquals": {"elasticfilesystem:AccessPointArn": access_point_arn}},
        }
    ]


def file_system_policy(
    *,
    file_system_arn: str,
    access_point_arn: str,
    writers: Sequence[str],
    readers: Sequence[str],
) -> str:
    """Only the roles of the tasks that mount it (writers may write, readers only read), only
    through its access point, only over TLS."""
    roles = sorted({*writers, *readers})
    only_readers = sorted(set(readers) - set(writers))
    through_access_point = {"elasticfilesystem:AccessPointArn": access_point_arn}
    statements: list[dict] = []
    for sid, principals, actions in (
        ("TheTasksThatMountItReadAndWrite", sorted(set(writers)), [MOUNT_ACTION, WRITE_ACTION]),
        ("TheTasksThatMountItReadOnlyRead", only_readers, [MOUNT_ACTION]),
    ):
        if principals:
            statements.append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": principals},
                    "Action": actions,
                    "Resource": file_system_arn,
                    "Condition": {
                        "ArnEquals": through_access_point,
                        "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
                    },
                }
            )
    statements += [
        {
            # With no task mounting it, nobody does.
            "Sid": "NoOneElseMountsIt",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(CLIENT_ACTIONS),
            "Resource": file_system_arn,
            **({"Condition": {"ArnNotEquals": {"aws:PrincipalArn": roles}}} if roles else {}),
        },
        {
            # A missing access point matches ArnNotEquals too: mounting the file system's / is
            # refused, as is every other access point.
            "Sid": "OnlyThroughItsAccessPoint",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(CLIENT_ACTIONS),
            "Resource": file_system_arn,
            "Condition": {"ArnNotEquals": through_access_point},
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "*",
            "Resource": file_system_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
    if only_readers:
        statements.append(
            {
                "Sid": "ReadOnlyMountsNeverWrite",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": [WRITE_ACTION, ROOT_ACTION],
                "Resource": file_system_arn,
                "Condition": {"ArnEquals": {"aws:PrincipalArn": only_readers}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True, kw_only=True)
class FileSystemAccess:
    """What a task needs to mount one file system (`FileSystem.access`).

    mount: the container's mount, whose volume is the file system through its access point.
    security_group_id: the clients group the task carries.
    statements: its task role's grant (mount, and write unless read-only).
    ready: what must exist before a task mounts it (mount targets, the NFS rules).
    file_system: the file system's name.
    """

    mount: Mount
    security_group_id: pulumi.Input[str]
    statements: tuple[dict, ...]
    ready: tuple[pulumi.Resource, ...]
    file_system: str


@dataclass(frozen=True, kw_only=True)
class FileSystemArgs:
    """Settings of one file system.

    vpc_id: the stack's VPC. Required.
    subnet_ids: a private subnet per AZ the tasks use, by AZ name: one mount target each (EFS
        takes one per AZ). Required, at least one.
    user: the numeric uid:gid the access point acts as and creates its directory for: the user
        the containers run as. Required.
    directory: the access point's root, an absolute path of up to four segments, not /. Required.
    infrequent_access_days: days without access before a file moves to Infrequent Access.
        Default 30 (spec.DEFAULT_INFREQUENT_ACCESS_DAYS says why).
    protect: automatic backups and Pulumi's protect, for a stack that holds data worth keeping.
        Default False.
    """

    vpc_id: pulumi.Input[str]
    subnet_ids: Mapping[str, pulumi.Input[str]]
    user: str
    directory: str
    infrequent_access_days: int = DEFAULT_INFREQUENT_ACCESS_DAYS
    protect: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        if not self.subnet_ids:
            found.append("subnet_ids: a mount target needs a subnet in at least one AZ")
        if user_problem(self.user) is not None:
            found.append(f"user {self.user!r}: expected a numeric uid:gid")
        elif int(self.user.split(":")[0]) == ROOT_UID:
            found.append(f"user {self.user!r}: the access point must not act as root")
        segments = self.directory.split("/")[1:]
        if not self.directory.startswith("/") or not 1 <= len(segments) <= 4 or "" in segments:
            found.append(
                f"directory {self.directory!r}: an absolute path of 1 to 4 segments, not / (EFS.3)"
            )
        if self.infrequent_access_days not in INFREQUENT_ACCESS_DAYS:
            found.append(
                f"infrequent_access_days {self.infrequent_access_days}: EFS offers "
                + ", ".join(map(str, INFREQUENT_ACCESS_DAYS))
            )
        return found


class FileSystem(pulumi.ComponentResource):
    """EFS file system, its mount targets, security groups, access point and (with protect) backup
    policy; its policy comes from `restrict_to`.

    Outputs:
        file_system_id, file_system_arn: the file system.
        access_point_id, access_point_arn: the access point every task mounts through.
        security_group_id: the mount targets' group.
        clients_security_group_id: the group a task that mounts it carries.
        mount_target_ids: by AZ.
    """

    def __init__(
        self, name: str, args: FileSystemArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        problems = args.problems()
        if not FILE_SYSTEM_NAME.match(name):
            problems.append(f"name {name!r}: lower-case letters, digits and -, up to 32")
        check_args(f"FileSystem {name!r}", problems)
        super().__init__("fargate-app:storage:FileSystem", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        file_system = aws.efs.FileSystem(
            f"{name}-efs",
            encrypted=True,
            throughput_mode="elastic",
            performance_mode="generalPurpose",
            lifecycle_policies=[
                {"transition_to_ia": lifecycle_after(args.infrequent_access_days)},
                {"transition_to_primary_storage_class": BACK_TO_STANDARD},
            ],
            tags={"Name": name},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        if args.protect:
            aws.efs.BackupPolicy(
                f"{name}-efs-backup",
                file_system_id=file_system.id,
                backup_policy={"status": "ENABLED"},
                opts=child,
            )
        sg = aws.ec2.SecurityGroup(
            f"{name}-efs-sg",
            vpc_id=args.vpc_id,
            description=f"EFS {name}: NFS from the tasks that mount it only",
            opts=child,
        )
        clients = aws.ec2.SecurityGroup(
            f"{name}-efs-clients",
            vpc_id=args.vpc_id,
            description=f"Tasks that mount the file system {name}",
            opts=child,
        )
        nfs_in = aws.vpc.SecurityGroupIngressRule(
            f"{name}-efs-nfs-in",
            security_group_id=sg.id,
            referenced_security_group_id=clients.id,
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            description="NFS from the tasks that mount it",
            opts=child,
        )
        nfs_out = aws.vpc.SecurityGroupEgressRule(
            f"{name}-efs-nfs-out",
            security_group_id=clients.id,
            referenced_security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            description=f"NFS to the file system {name}",
            opts=child,
        )
        # Keyed by AZ, so adding one leaves the others in place.
        targets = {
            az: aws.efs.MountTarget(
                f"{name}-efs-{az}",
                file_system_id=file_system.id,
                subnet_id=subnet_id,
                security_groups=[sg.id],
                opts=child,
            )
            for az, subnet_id in args.subnet_ids.items()
        }
        uid, gid = (int(part) for part in args.user.split(":"))
        access_point = aws.efs.AccessPoint(
            f"{name}-efs-ap",
            file_system_id=file_system.id,
            posix_user={"uid": uid, "gid": gid},
            root_directory={
                "path": args.directory,
                "creation_info": {
                    "owner_uid": uid,
                    "owner_gid": gid,
                    "permissions": DIRECTORY_PERMISSIONS,
                },
            },
            opts=child,
        )
        self._name = name
        self._ready: tuple[pulumi.Resource, ...] = (*targets.values(), nfs_in, nfs_out)
        self.file_system_id: pulumi.Output[str] = file_system.id
        self.file_system_arn: pulumi.Output[str] = file_system.arn
        self.access_point_id: pulumi.Output[str] = access_point.id
        self.access_point_arn: pulumi.Output[str] = access_point.arn
        self.security_group_id: pulumi.Output[str] = sg.id
        self.clients_security_group_id: pulumi.Output[str] = clients.id
        self.mount_target_ids: dict[str, pulumi.Output[str]] = {
            az: t.id for az, t in targets.items()
        }
        self.register_outputs(
            {
                "file_system_id": self.file_system_id,
                "file_system_arn": self.file_system_arn,
                "access_point_id": self.access_point_id,
                "access_point_arn": self.access_point_arn,
                "security_group_id": self.security_group_id,
                "clients_security_group_id": self.clients_security_group_id,
                "mount_target_ids": self.mount_target_ids,
            }
        )

    def access(self, path: str, read_only: bool = False) -> FileSystemAccess:
        """What a task needs to mount it at `path` (creates nothing)."""
        return FileSystemAccess(
            mount=Mount(
                volume=f"{EFS_VOLUME_PREFIX}{self._name}",
                path=path,
                read_only=read_only,
                efs=EfsVolume(
                    file_system_id=self.file_system_id, access_point_id=self.access_point_id
                ),
            ),
            security_group_id=self.clients_security_group_id,
            statements=tuple(
                mount_statements(self._name, self.file_system_arn, self.access_point_arn, read_only)
            ),
            ready=self._ready,
            file_system=self._name,
        )

    def restrict_to(
        self, writers: Sequence[pulumi.Input[str]], readers: Sequence[pulumi.Input[str]] = ()
    ) -> aws.efs.FileSystemPolicy:
        """The file system's policy: only these task roles mount it (created once they exist)."""
        return aws.efs.FileSystemPolicy(
            f"{self._name}-efs-policy",
            file_system_id=self.file_system_id,
            policy=pulumi.Output.all(
                self.file_system_arn,
                self.access_point_arn,
                pulumi.Output.all(*writers),
                pulumi.Output.all(*readers),
            ).apply(
                lambda a: file_system_policy(
                    file_system_arn=a[0],
                    access_point_arn=a[1],
                    writers=list(a[2]),
                    readers=list(a[3]),
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
