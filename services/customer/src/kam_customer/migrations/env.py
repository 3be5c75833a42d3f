from kam_customer.models import Base
from kam_platform.db.alembic_env import run

run(Base.metadata)
