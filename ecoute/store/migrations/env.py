"""Alembic environment: the engine is handed in by ``ecoute.store.db.upgrade`` (or built from
``ECOUTE_DATABASE_URL`` when alembic is run by hand with the root ``alembic.ini``)."""

from alembic import context

from ecoute.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from ecoute.config.settings import get_settings
        from ecoute.store.db import make_engine

        engine = make_engine(get_settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `ecoute db upgrade`")
run_migrations_online()
