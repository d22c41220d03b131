"""Offline tools for the fargate-app project: mocks, plan, ops."""
