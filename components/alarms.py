"""Alarms: what pages someone, with every threshold and window in one place.

Five alarms watch a web service, all notifying one SNS topic (components.alarm_topic) on ALARM and
on OK:
- 5xx rate (the app's and the load balancer's own) and unhealthy targets: these two are also ECS
  deployment alarms, so a deploy that trips either rolls back. They watch the service's target
  groups, so components.service creates them before the service (ECS wants the alarms to exist)
  from the specs below;
- p99 target response time, service CPU high and memory high: this module's `Alarms` component,
  created after the service, whose name only exists then.
A service without a load balancer has the CPU and memory alarms; a worker also the age of the oldest
message in its queue and a message in its dead-letter queue.
Every alarm has a fixed name (project, stack, component, what), so an operator finds it by name and
ECS can refer to it before it exists. Missing data (no traffic) is not breaching: an idle dev stack
stays quiet.

Under blue/green and canary deploys the service alternates between two target groups, so the
target-group alarms combine both with metric math (a target group without traffic adds nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import pulumi
import pulumi_aws as aws

from components.naming import bounded
from components.spec import check_args

ALB_NAMESPACE = "AWS/ApplicationELB"
ECS_NAMESPACE = "AWS/ECS"
SQS_NAMESPACE = "AWS/SQS"
ALARM_NAME_MAX = 255  # CloudWatch's limit
PERIOD_S = 60  # ALB and ECS publish these metrics every minute; a shorter period would be empty
# 5xx rate: one request in twenty failing is an outage to users, not noise...
ERROR_RATE_PERCENT = 5.0
# ...once there is enough traffic to speak of a rate: one error in three requests is not 33%.
ERROR_RATE_MIN_REQUESTS = 20
# Two bad minutes in three: a bad deploy rolls back within about three minutes, one blip does not.
ERROR_RATE_EVALUATION_PERIODS = 3
ERROR_RATE_DATAPOINTS = 2
# Unhealthy targets: the ALB already pulls a failing task after 15 s (3 checks 5 s apart), so any
# target unhealthy for two whole minutes means tasks keep failing, not one slow start.
UNHEALTHY_HOSTS_MAX = 0
UNHEALTHY_EVALUATION_PERIODS = 2
# p99 latency: the app answers in well under a second; a p99 above one second for three of five
# minutes is a real slowdown, while a single slow minute (a cold start, a GC pause) is not.
LATENCY_P99_S = 1.0
LATENCY_EVALUATION_PERIODS = 5
LATENCY_DATAPOINTS = 3
# CPU: autoscaling holds the average at cpuTarget (at most 90%), so five minutes above 90% means it
# cannot keep up (at maxCount, or Spot capacity short).
CPU_HIGH_PERCENT = 90.0
# Memory does not autoscale: five minutes above 85% is a leak or an undersized task, before the
# kernel kills it at 100%.
MEMORY_HIGH_PERCENT = 85.0
UTILIZATION_EVALUATION_PERIODS = 5
# A worker's queue: a message waiting a quarter of an hour means the workers cannot keep up or are
# not running, long after the backlog policy should have started more (three minutes or so).
QUEUE_AGE_ALARM_S = 15 * 60
QUEUE_AGE_EVALUATION_PERIODS = 3
# One dead letter is a message the worker failed max_receives times: alarm on the first. SQS
# publishes queue metrics once a minute; the alarm stays on until someone reads or redrives it.
DEAD_LETTERS_MAX = 0
NOT_BREACHING = "notBreaching"
# pulumi-aws's own shape of a metric query, so the type checker holds every key to the SDK.
Query = aws.cloudwatch.MetricAlarmMetricQueryArgsDict


def alarm_name(component: str, what: str) -> str:
    """A stable, readable alarm name: `<project>-<stack>-<component>-<what>`, within CloudWatch's
    limit."""
    return bounded(
        f"{pulumi.get_project()}-{pulumi.get_stack()}-{component}-{what}", ALARM_NAME_MAX
    )


def _alb_metric(
    query_id: str,
    metric: str,
    stat: str,
    lb_arn_suffix: pulumi.Input[str],
    tg: pulumi.Input[str] | None = None,
) -> Query:
    """An ALB metric of target group `tg`, or without one, of the load balancer itself."""
    dimensions: dict[str, pulumi.Input[str]] = {"LoadBalancer": lb_arn_suffix}
    if tg is not None:
        dimensions["TargetGroup"] = tg
    return {
        "id": query_id,
        "return_data": False,
        "metric": {
            "namespace": ALB_NAMESPACE,
            "metric_name": metric,
            "stat": stat,
            "period": PERIOD_S,
            "dimensions": dimensions,
        },
    }


def _sum(ids: Sequence[str]) -> str:
    return " + ".join(f"FILL({i}, 0)" for i in ids)


def error_rate_queries(
    lb_arn_suffix: pulumi.Input[str], target_groups: Sequence[pulumi.Input[str]]
) -> list[Query]:
    """Metric math: 5xx responses as a percent of requests, over all `target_groups`, and 0 below
    ERROR_RATE_MIN_REQUESTS requests a minute.

    The 5xx count adds the load balancer's own (502, 503, 504 when tasks crash, time out or none is
    healthy: the typical bad deploy) to the app's. The load balancer publishes those per load
    balancer only, so with several services behind one, they count for each. Of them, only the
    503s (no target to send the request to) are missing from the target groups' RequestCount."""
    queries: list[Query] = []
    for i, tg in enumerate(target_groups):
        queries.append(
            _alb_metric(f"errors{i}", "HTTPCode_Target_5XX_Count", "Sum", lb_arn_suffix, tg)
        )
        queries.append(_alb_metric(f"requests{i}", "RequestCount", "Sum", lb_arn_suffix, tg))
    queries += [
        _alb_metric("lberrors", "HTTPCode_ELB_5XX_Count", "Sum", lb_arn_suffix),
        _alb_metric("unrouted", "HTTPCode_ELB_503_Count", "Sum", lb_arn_suffix),
    ]
    errors = _sum([*(f"errors{i}" for i in range(len(target_groups))), "lberrors"])
    # A 502 or 504 had a target, so RequestCount has it already; a 503 found none.
    requests = _sum([*(f"requests{i}" for i in range(len(target_groups))), "unrouted"])
    queries.append(
        {
            "id": "rate",
            "expression": (
                f"IF(({requests}) >= {ERROR_RATE_MIN_REQUESTS}, 100 * ({errors}) / ({requests}), 0)"
            ),
            "label": "5xx responses from the app or the load balancer (% of requests)",
            "return_data": True,
        }
    )
    return queries


def unhealthy_hosts_queries(
    lb_arn_suffix: pulumi.Input[str], target_groups: Sequence[pulumi.Input[str]]
) -> list[Query]:
    """Metric math: unhealthy targets over all `target_groups`."""
    queries = [
        _alb_metric(f"unhealthy{i}", "UnHealthyHostCount", "Maximum", lb_arn_suffix, tg)
        for i, tg in enumerate(target_groups)
    ]
    queries.append(
        {
            "id": "unhealthy",
            "expression": _sum([f"unhealthy{i}" for i in range(len(target_groups))]),
            "label": "Unhealthy targets",
            "return_data": True,
        }
    )
    return queries


def latency_p99_queries(
    lb_arn_suffix: pulumi.Input[str], target_groups: Sequence[pulumi.Input[str]]
) -> list[Query]:
    """Metric math: the larger p99 target response time of `target_groups`, in seconds (percentiles
    cannot be added, and the slower revision is the one to know about)."""
    queries = [
        _alb_metric(f"p99_{i}", "TargetResponseTime", "p99", lb_arn_suffix, tg)
        for i, tg in enumerate(target_groups)
    ]
    filled = [f"FILL(p99_{i}, 0)" for i in range(len(target_groups))]
    expression = reduce(lambda a, b: f"IF({a} > {b}, {a}, {b})", filled)
    queries.append(
        {
            "id": "latency",
            "expression": expression,
            "label": "p99 target response time (s)",
            "return_data": True,
        }
    )
    return queries


def deploy_alarm_specs(
    component: str, lb_arn_suffix: pulumi.Input[str], target_groups: Sequence[pulumi.Input[str]]
) -> dict[str, dict[str, Any]]:
    """The two alarms a deploy must not trip, by short name: MetricAlarm arguments without actions.
    components.service creates them, before the service that names them."""
    return {
        "5xx-rate": {
            "name": alarm_name(component, "5xx-rate"),
            "alarm_description": (
                f"More than {ERROR_RATE_PERCENT:g}% of requests to the app answered 5xx, by the "
                "app or by the load balancer (no healthy task, a crash or a timeout), "
                f"in {ERROR_RATE_DATAPOINTS} of {ERROR_RATE_EVALUATION_PERIODS} minutes. "
                "A deploy that trips this rolls back."
            ),
            "comparison_operator": "GreaterThanThreshold",
            "threshold": ERROR_RATE_PERCENT,
            "evaluation_periods": ERROR_RATE_EVALUATION_PERIODS,
            "datapoints_to_alarm": ERROR_RATE_DATAPOINTS,
            "metric_queries": error_rate_queries(lb_arn_suffix, target_groups),
            "treat_missing_data": NOT_BREACHING,
        },
        "unhealthy-hosts": {
            "name": alarm_name(component, "unhealthy-hosts"),
            "alarm_description": (
                f"A target of the app failed the load balancer's health checks for "
                f"{UNHEALTHY_EVALUATION_PERIODS} minutes. A deploy that trips this rolls back."
            ),
            "comparison_operator": "GreaterThanThreshold",
            "threshold": float(UNHEALTHY_HOSTS_MAX),
            "evaluation_periods": UNHEALTHY_EVALUATION_PERIODS,
            "datapoints_to_alarm": UNHEALTHY_EVALUATION_PERIODS,
            "metric_queries": unhealthy_hosts_queries(lb_arn_suffix, target_groups),
            "treat_missing_data": NOT_BREACHING,
        },
    }


def notify(topic_arn: pulumi.Input[str] | None) -> list[pulumi.Input[str]]:
    """The alarm and OK actions that notify `topic_arn` (none without a topic)."""
    return [topic_arn] if topic_arn is not None else []


@dataclass(frozen=True, kw_only=True)
class QueueWatch:
    """A worker's queues, as CloudWatch names them (components.queue). Both required.

    queue_name: the queue it drains (the age of its oldest message).
    dead_letter_queue_name: where messages go that keep failing (any message there).
    """

    queue_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class AlarmsArgs:
    """What the alarms watch and whom they notify.

    topic_arn: the SNS topic for ALARM and OK notifications (components.alarm_topic). Required.
    cluster_name, service_name: the ECS service (AWS/ECS CPUUtilization, MemoryUtilization).
        Required.
    lb_arn_suffix, target_group_arn_suffixes: the load balancer and the service's target groups
        (one for rolling deploys, two for blue/green and canary), as CloudWatch names them; with
        them, the latency alarm. Default None and none: a service without a load balancer.
    queue: a worker's queues (QueueWatch); with them, the oldest-message and dead-letter alarms.
        Default None.
    """

    topic_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    lb_arn_suffix: pulumi.Input[str] | None = None
    target_group_arn_suffixes: tuple[pulumi.Input[str], ...] = ()
    queue: QueueWatch | None = None

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if self.lb_arn_suffix is not None and not self.target_group_arn_suffixes:
            return ["target_group_arn_suffixes: at least the service's one target group"]
        if self.lb_arn_suffix is None and self.target_group_arn_suffixes:
            return ["lb_arn_suffix: the load balancer of target_group_arn_suffixes"]
        return []


class Alarms(pulumi.ComponentResource):
    """p99 target response time (behind a load balancer), service CPU high and memory high
    alarms, and a worker's oldest-message and dead-letter alarms.

    Outputs:
        alarm_names: the alarms' names.
    """

    def __init__(
        self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"Alarms {name!r}", args.problems())
        super().__init__("fargate-app:alarms:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        actions = notify(args.topic_arn)
        alarms: list[aws.cloudwatch.MetricAlarm] = []
        if args.lb_arn_suffix is not None:
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-latency-p99",
                    name=alarm_name(name, "latency-p99"),
                    alarm_description=(
                        f"p99 target response time above {LATENCY_P99_S:g} s in "
                        f"{LATENCY_DATAPOINTS} of {LATENCY_EVALUATION_PERIODS} minutes."
                    ),
                    comparison_operator="GreaterThanThreshold",
                    threshold=LATENCY_P99_S,
                    evaluation_periods=LATENCY_EVALUATION_PERIODS,
                    datapoints_to_alarm=LATENCY_DATAPOINTS,
                    metric_queries=latency_p99_queries(
                        args.lb_arn_suffix, args.target_group_arn_suffixes
                    ),
                    treat_missing_data=NOT_BREACHING,
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=child,
                )
            )
        service_dimensions = {"ClusterName": args.cluster_name, "ServiceName": args.service_name}
        for what, metric, threshold, why in (
            ("cpu-high", "CPUUtilization", CPU_HIGH_PERCENT, "autoscaling cannot keep up"),
            ("memory-high", "MemoryUtilization", MEMORY_HIGH_PERCENT, "a leak or too small a task"),
        ):
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{what}",
                    name=alarm_name(name, what),
                    alarm_description=(
                        f"Service {metric} above {threshold:g}% for "
                        f"{UTILIZATION_EVALUATION_PERIODS} minutes: {why}."
                    ),
                    namespace=ECS_NAMESPACE,
                    metric_name=metric,
                    dimensions=service_dimensions,
                    statistic="Average",
                    period=PERIOD_S,
                    comparison_operator="GreaterThanThreshold",
                    threshold=threshold,
                    evaluation_periods=UTILIZATION_EVALUATION_PERIODS,
                    datapoints_to_alarm=UTILIZATION_EVALUATION_PERIODS,
                    treat_missing_data=NOT_BREACHING,
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=child,
                )
            )

        if args.queue is not None:
            alarms += self._queue(name, args.queue, actions)

        self.alarm_names: list[pulumi.Output[str]] = [a.name for a in alarms]
        self.register_outputs({"alarm_names": self.alarm_names})

    def _queue(
        self, name: str, queue: QueueWatch, actions: list[pulumi.Input[str]]
    ) -> list[aws.cloudwatch.MetricAlarm]:
        child = pulumi.ResourceOptions(parent=self)
        age = aws.cloudwatch.MetricAlarm(
            f"{name}-queue-age",
            name=alarm_name(name, "queue-age"),
            alarm_description=(
                f"A message has waited over {QUEUE_AGE_ALARM_S // 60} minutes in {name}'s queue "
                f"for {QUEUE_AGE_EVALUATION_PERIODS} minutes: the workers cannot keep up, or none "
                "runs."
            ),
            namespace=SQS_NAMESPACE,
            metric_name="ApproximateAgeOfOldestMessage",
            dimensions={"QueueName": queue.queue_name},
            statistic="Maximum",
            period=PERIOD_S,
            comparison_operator="GreaterThanThreshold",
            threshold=float(QUEUE_AGE_ALARM_S),
            evaluation_periods=QUEUE_AGE_EVALUATION_PERIODS,
            datapoints_to_alarm=QUEUE_AGE_EVALUATION_PERIODS,
            treat_missing_data=NOT_BREACHING,
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
        dead = aws.cloudwatch.MetricAlarm(
            f"{name}-dead-letters",
            name=alarm_name(name, "dead-letters"),
            alarm_description=(
                f"A message failed in {name} as often as its queue allows (maxReceives) and went "
                "to the dead-letter queue, which holds it for reading or redriving."
            ),
            namespace=SQS_NAMESPACE,
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue.dead_letter_queue_name},
            statistic="Maximum",
            period=PERIOD_S,
            comparison_operator="GreaterThanThreshold",
            threshold=float(DEAD_LETTERS_MAX),
            evaluation_periods=1,
            treat_missing_data=NOT_BREACHING,
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
        return [age, dead]
