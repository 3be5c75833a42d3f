from kam_platform.db.alembic_env import run
from kam_rules.models import Base

run(Base.metadata)
