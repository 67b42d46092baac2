"""`python -m services.notifications`"""

from services.notifications.app import create_app
from shared.service import run
from shared.settings import Settings

settings = Settings()
run(create_app(settings), settings, service="notifications")
