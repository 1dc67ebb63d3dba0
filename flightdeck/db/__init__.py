"""Postgres: models, repositories, migrations, engine/bootstrap."""
