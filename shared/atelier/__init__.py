"""Atelier: the shared package behind every Lambda function of the studio."""
