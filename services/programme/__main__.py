"""`python -m services.programme`"""

from services.programme.app import create_app
from shared.service import run
from shared.settings import Settings

settings = Settings()
run(create_app(settings), settings, service="programme")
