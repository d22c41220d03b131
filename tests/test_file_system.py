"""File systems (components/file_system.py) and the tasks that mount them (issue 16).

What a user relies on: files outlive every task (EFS, encrypted, elastic throughput, to Infrequent
Access after the days set); only the tasks that mount a file system reach it (NFS 2049 from its
clients group, which only they carry) and may mount it (their task roles, named by its policy,
through its access point, over TLS; read-only ones never write); the access point acts as the
containers' user in a directory of its own; the mount targets sit in private subnets (EFS.6);
with deletionProtection it is backed up and protected; a job that mounts runs with roles of its
own; ECS and EFS accept what the program sends them; and preview works.
"""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.file_system import (
    CLIENT_ACTIONS,
    MOUNT_ACTION,
    WRITE_ACTION,
    FileSystem,
    FileSystemArgs,
    file_system_policy,
    lifecycle_after,
)
from components.spec import DEFAULT_CONTAINER_USER, NFS_PORT
from tools.mocks import UNKNOWN, ProgramRun, RegisteredResource
from tools.urns import FILES

FS = "aws:efs/fileSystem:FileSystem"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"
POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
BACKUP = "aws:efs/backupPolicy:BackupPolicy"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SUBNETS = {"us-east-1a": "subnet-0a", "us-east-1b": "subnet-0b"}
ARN = "arn:aws:elasticfilesystem:us-east-1:123456789012"


def one_file_system(**changes: Any) -> None:
    settings: dict[str, Any] = {
        "vpc_id": "vpc-1",
        "subnet_ids": SUBNETS,
        "user": DEFAULT_CONTAINER_USER,
        "directory": "/shared",
    }
    FileSystem("shared", FileSystemArgs(**{**settings, **changes}))


@pytest.fixture(scope="module")
def files(run_stack) -> ProgramRun:
    """prod (deletionProtection on) with the main service and a job writing a file system a web
    service reads."""
    return run_stack("prod", FILES)


def named(run: ProgramRun, type_token: str, name: str) -> RegisteredResource:
    """The one resource of `type_token` named `name` (a role and a task definition share names)."""
    found = [r for r in run.of_type(type_token) if r.name == name]
    assert len(found) == 1, f"expected one {type_token} named {name!r}, found {len(found)}"
    return found[0]


def model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def valid(service: str, operation: str, request: dict) -> None:
    shape = model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def policy_of(run: ProgramRun) -> dict:
    return json.loads(run.one(POLICY).inputs["policy"])


def statement(policy: dict, sid: str) -> dict:
    found = [s for s in policy["Statement"] if s["Sid"] == sid]
    assert len(found) == 1, f"expected one statement {sid}, got {[s['Sid'] for s in found]}"
    return found[0]


def task_role_grants(run: ProgramRun, role_policy: str) -> list[dict]:
    return json.loads(named(run, ROLE_POLICY, role_policy).inputs["policy"])["Statement"]


def containers(run: ProgramRun, task: str) -> dict:
    return json.loads(named(run, TASK_DEFINITION, task).inputs["containerDefinitions"])[0]


# --- the component -----


def test_files_are_encrypted_billed_by_use_and_move_to_infrequent_access(run_component) -> None:
    fs = run_component(lambda: one_file_system(infrequent_access_days=7)).one(FS).inputs
    assert fs["encrypted"] is True
    assert fs["throughputMode"] == "elastic"
    assert {"transitionToIa": "AFTER_7_DAYS"} in fs["lifecyclePolicies"]
    assert lifecycle_after(1) == "AFTER_1_DAY"


def test_a_mount_target_in_each_az_in_the_subnets_given_behind_its_own_group(
    run_component,
) -> None:
    run = run_component(lambda: one_file_system())
    targets = {t.name: t.inputs for t in run.of_type(MOUNT_TARGET)}
    assert sorted(targets) == ["shared-efs-us-east-1a", "shared-efs-us-east-1b"], "keyed by AZ"
    assert {t["subnetId"] for t in targets.values()} == set(SUBNETS.values())
    group = run.named("shared-efs-sg").id
    assert all(t["securityGroups"] == [group] for t in targets.values())


def test_nfs_is_admitted_only_from_the_clients_group(run_component) -> None:
    run = run_component(lambda: one_file_system())
    ingress = run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert len(ingress) == 1, "one way in"
    rule = ingress[0].inputs
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (NFS_PORT, NFS_PORT, "tcp")
    assert rule["referencedSecurityGroupId"] == run.named("shared-efs-clients").id
    assert "cidrIpv4" not in rule
    egress = run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").inputs
    assert egress["referencedSecurityGroupId"] == run.named("shared-efs-sg").id
    assert egress["fromPort"] == egress["toPort"] == NFS_PORT, "the clients get out on NFS alone"


def test_the_access_point_acts_as_the_container_user_in_a_directory_of_its_own(
    run_component,
) -> None:
    ap = run_component(lambda: one_file_system()).one(ACCESS_POINT).inputs
    uid, gid = (int(p) for p in DEFAULT_CONTAINER_USER.split(":"))
    assert ap["posixUser"] == {"uid": uid, "gid": gid}
    assert ap["rootDirectory"]["path"] == "/shared", "never the file system's / (EFS.3)"
    creation = ap["rootDirectory"]["creationInfo"]
    assert (creation["ownerUid"], creation["ownerGid"]) == (uid, gid)


def test_backups_and_protection_only_when_asked(run_component) -> None:
    plain = run_component(lambda: one_file_system())
    assert plain.of_type(BACKUP) == [] and plain.one(FS).protect is False
    kept = run_component(lambda: one_file_system(protect=True))
    assert kept.one(BACKUP).inputs["backupPolicy"] == {"status": "ENABLED"}
    assert kept.one(FS).protect is True


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"user": "0:0"}, "root"),
        ({"user": "app"}, "uid:gid"),
        ({"directory": "/"}, "EFS.3"),
        ({"infrequent_access_days": 45}, "infrequent_access_days"),
        ({"subnet_ids": {}}, "subnet_ids"),
    ],
)
def test_bad_arguments_create_nothing(run_component, changes: dict, named: str) -> None:
    run = run_component(lambda: one_file_system(**changes), check=False)
    assert run.error is not None and named in str(run.error), run.error
    assert run.custom_resources == [], "nothing may be half-created"


# --- the policy -----


FS_ARN, AP_ARN = f"{ARN}:file-system/fs-1", f"{ARN}:access-point/fsap-1"
WRITER, READER = "arn:aws:iam::123456789012:role/w", "arn:aws:iam::123456789012:role/r"


def test_the_policy_lets_only_the_mounting_roles_in_through_the_access_point_over_tls() -> None:
    policy = json.loads(
        file_system_policy(
            file_system_arn=FS_ARN, access_point_arn=AP_ARN, writers=[WRITER], readers=[READER]
        )
    )
    others = statement(policy, "NoOneElseMountsIt")
    assert others["Effect"] == "Deny" and set(others["Action"]) == set(CLIENT_ACTIONS)
    assert others["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [READER, WRITER]}}
    through = statement(policy, "OnlyThroughItsAccessPoint")
    assert through["Condition"] == {"ArnNotEquals": {"elasticfilesystem:AccessPointArn": AP_ARN}}
    tls = statement(policy, "TlsOnly")
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    readers = statement(policy, "ReadOnlyMountsNeverWrite")
    assert readers["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [READER]}}
    assert WRITE_ACTION in readers["Action"]
    writes = statement(policy, "TheTasksThatMountItReadAndWrite")
    assert writes["Principal"] == {"AWS": [WRITER]}
    assert statement(policy, "TheTasksThatMountItReadOnlyRead")["Action"] == [MOUNT_ACTION]
    valid(
        "efs",
        "PutFileSystemPolicy",
        {"FileSystemId": "fs-1", "Policy": json.dumps(policy)},
    )


def test_a_file_system_nothing_mounts_lets_nobody_in() -> None:
    policy = json.loads(
        file_system_policy(file_system_arn=FS_ARN, access_point_arn=AP_ARN, writers=[], readers=[])
    )
    assert "Condition" not in statement(policy, "NoOneElseMountsIt"), "a deny for everyone"
    assert all(s["Effect"] == "Deny" for s in policy["Statement"])


# --- the program -----


def test_the_program_mounts_through_the_access_point_with_tls_and_iam(files: ProgramRun) -> None:
    task = named(files, TASK_DEFINITION, "app-task").inputs
    (volume,) = [v for v in task["volumes"] if "efsVolumeConfiguration" in v]
    efs = volume["efsVolumeConfiguration"]
    assert efs["fileSystemId"] == files.one(FS).id
    assert efs["transitEncryption"] == "ENABLED"
    assert efs["authorizationConfig"] == {
        "accessPointId": files.one(ACCESS_POINT).id,
        "iam": "ENABLED",
    }
    mount = next(
        m for m in containers(files, "app-task")["mountPoints"] if m["containerPath"] == "/data"
    )
    assert mount == {"sourceVolume": volume["name"], "containerPath": "/data", "readOnly": False}
    valid(
        "ecs",
        "RegisterTaskDefinition",
        {
            "family": task["family"],
            "containerDefinitions": json.loads(task["containerDefinitions"]),
            "volumes": task["volumes"],
        },
    )


def test_a_read_only_mount_is_read_only_in_the_container_and_the_role(files: ProgramRun) -> None:
    mount = next(
        m for m in containers(files, "files-task")["mountPoints"] if m["containerPath"] == "/data"
    )
    assert mount["readOnly"] is True
    grants = task_role_grants(files, "files-task-policy")
    actions = {a for s in grants if "elasticfilesystem" in str(s["Action"]) for a in s["Action"]}
    assert actions == {MOUNT_ACTION}, "a read-only task may not write"


def test_only_the_mounting_tasks_roles_are_let_in(files: ProgramRun) -> None:
    roles = {r.name: r.outputs["arn"] for r in files.of_type("aws:iam/role:Role")}
    policy = policy_of(files)
    allowed = set(
        statement(policy, "NoOneElseMountsIt")["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    )
    assert allowed == {roles["app-task"], roles["files-task"], roles["jobs-nightly-task"]}
    assert set(statement(policy, "TheTasksThatMountItReadOnlyRead")["Principal"]["AWS"]) == {
        roles["files-task"]
    }


def test_a_job_that_mounts_runs_with_roles_of_its_own(files: ProgramRun) -> None:
    job = named(files, TASK_DEFINITION, "jobs-nightly-task").inputs
    roles = {r.name: r.outputs["arn"] for r in files.of_type("aws:iam/role:Role")}
    assert job["taskRoleArn"] == roles["jobs-nightly-task"], "not the service's task role"
    grants = task_role_grants(files, "jobs-nightly-task-policy")
    assert any(WRITE_ACTION in s["Action"] for s in grants)
    schedule = files.named("jobs-nightly-schedule").inputs
    groups = schedule["target"]["ecsParameters"]["networkConfiguration"]["securityGroups"]
    assert files.named("shared-efs-clients").id in groups


def test_every_mounting_task_carries_the_clients_group(
    files: ProgramRun,
) -> None:
    clients = files.named("shared-efs-clients").id
    services = {r.name: r.inputs for r in files.of_type("aws:ecs/service:Service")}
    assert clients in services["app-svc"]["networkConfiguration"]["securityGroups"]
    assert clients in services["files-svc"]["networkConfiguration"]["securityGroups"]


def test_the_mount_targets_are_in_private_subnets_even_where_tasks_run_public(
    run_stack,
) -> None:
    run = run_stack("dev", FILES)  # dev's tasks run in public subnets (no NAT)
    subnets = {r.id: r for r in run.of_type("aws:ec2/subnet:Subnet")}
    targets = run.of_type(MOUNT_TARGET)
    assert len(targets) == 2, "one in each AZ the tasks use"
    for target in targets:
        subnet = subnets[target.inputs["subnetId"]]
        assert subnet.inputs["tags"].get("tier") == "private", f"{target} is in {subnet}"
        assert subnet.inputs["availabilityZone"] == target.name.rsplit("-efs-", 1)[-1]


def test_with_deletion_protection_the_file_system_is_backed_up_and_protected(
    files: ProgramRun,
) -> None:
    assert files.one(FS).protect is True
    assert files.one(BACKUP).inputs["backupPolicy"]["status"] == "ENABLED"


def test_efs_accepts_what_the_program_creates(files: ProgramRun) -> None:
    fs = files.one(FS).inputs
    valid(
        "efs",
        "CreateFileSystem",
        {
            "CreationToken": "t",
            "Encrypted": fs["encrypted"],
            "ThroughputMode": fs["throughputMode"],
            "PerformanceMode": fs["performanceMode"],
        },
    )
    valid(
        "efs",
        "PutLifecycleConfiguration",
        {
            "FileSystemId": "fs-1",
            "LifecyclePolicies": [
                {"TransitionToIA": p["transitionToIa"]} if "transitionToIa" in p
                else {"TransitionToPrimaryStorageClass": p["transitionToPrimaryStorageClass"]}
                for p in fs["lifecyclePolicies"]
            ],
        },
    )  # fmt: skip
    ap = files.one(ACCESS_POINT).inputs
    creation = ap["rootDirectory"]["creationInfo"]
    valid(
        "efs",
        "CreateAccessPoint",
        {
            "ClientToken": "t",
            "FileSystemId": "fs-1",
            "PosixUser": {"Uid": ap["posixUser"]["uid"], "Gid": ap["posixUser"]["gid"]},
            "RootDirectory": {
                "Path": ap["rootDirectory"]["path"],
                "CreationInfo": {
                    "OwnerUid": creation["ownerUid"],
                    "OwnerGid": creation["ownerGid"],
                    "Permissions": creation["permissions"],
                },
            },
        },
    )
    valid(
        "efs",
        "PutFileSystemPolicy",
        {"FileSystemId": "fs-1", "Policy": files.one(POLICY).inputs["policy"]},
    )


def test_the_program_previews_with_file_systems(run_stack) -> None:
    run = run_stack("prod", FILES, preview=True)
    assert len(run.of_type(MOUNT_TARGET)) == 2
    assert run.one(POLICY)


def test_the_committed_stacks_mount_nothing(dev: ProgramRun, prod: ProgramRun) -> None:
    for run in (dev, prod):
        assert run.of_type(FS) == []
        task = named(run, TASK_DEFINITION, "app-task").inputs
        assert all("efsVolumeConfiguration" not in v for v in task["volumes"])


def test_a_file_system_nothing_mounts_is_a_warning_of_the_program(run_stack) -> None:
    run = run_stack("dev", {"fileSystems": {"spare": {}}})
    assert any("fileSystems.spare" in w and "no task mounts it" in w for w in run.warnings)


def test_the_mocks_answer_efs_as_aws_does(files: ProgramRun) -> None:
    fs, ap = files.one(FS), files.one(ACCESS_POINT)
    assert re.fullmatch(r"fs-[0-9a-f]{17}", fs.id), fs.id
    assert fs.outputs["arn"] == f"{ARN}:file-system/{fs.id}"
    assert re.fullmatch(r"fsap-[0-9a-f]{17}", ap.id), ap.id
    assert ap.outputs["arn"] == f"{ARN}:access-point/{ap.id}"
    for target in files.of_type(MOUNT_TARGET):
        assert re.fullmatch(r"fsmt-[0-9a-f]{17}", target.id), target.id
        assert target.outputs["availabilityZoneName"] == target.name.rsplit("-efs-", 1)[-1]
        assert target.outputs["fileSystemArn"] == fs.outputs["arn"]
    assert files.one(POLICY).id == fs.id, "a file-system policy's ID is its file system's"


def test_in_preview_what_aws_computes_is_unknown(run_stack) -> None:
    run = run_stack("prod", FILES, preview=True)
    task = named(run, TASK_DEFINITION, "app-task").inputs
    (volume,) = [v for v in task["volumes"] if "efsVolumeConfiguration" in v]
    assert volume["efsVolumeConfiguration"]["fileSystemId"] == UNKNOWN, volume
    assert volume["efsVolumeConfiguration"]["authorizationConfig"]["accessPointId"] == UNKNOWN


def test_a_task_mounting_two_file_systems_gets_a_grant_for_each_under_its_own_sid(
    run_stack,
) -> None:
    two = {
        "fileSystems": {"uploads": {}, "model-files": {}},
        "mounts": {"uploads": "/srv/uploads", "model-files": {"path": "/models", "readOnly": True}},
    }
    run = run_stack("dev", two)
    grants = task_role_grants(run, "app-task-policy")
    sids = [s["Sid"] for s in grants]
    assert len(sids) == len(set(sids)), f"IAM wants each Sid once in a policy: {sids}"
    mounts = {s["Sid"]: s["Action"] for s in grants if "elasticfilesystem" in str(s["Action"])}
    assert mounts == {
        "MountUploadsThroughItsAccessPointReadWrite": [MOUNT_ACTION, WRITE_ACTION],
        "MountModelFilesThroughItsAccessPointReadOnly": [MOUNT_ACTION],
    }, mounts
