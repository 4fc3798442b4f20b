"""The case hub domain: models, services, repositories, jobs and settings."""
