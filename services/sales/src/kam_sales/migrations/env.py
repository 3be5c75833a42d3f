from kam_platform.db.alembic_env import run
from kam_sales.models import Base

run(Base.metadata)
