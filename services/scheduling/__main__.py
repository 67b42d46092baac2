"""`python -m services.scheduling`"""

from services.scheduling.app import create_app
from shared.service import run
from shared.settings import Settings

settings = Settings()
run(create_app(settings), settings, service="scheduling")
