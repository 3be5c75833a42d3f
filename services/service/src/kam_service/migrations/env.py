from kam_platform.db.alembic_env import run
from kam_service.models import Base

run(Base.metadata)
