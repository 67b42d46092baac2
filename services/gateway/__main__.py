"""`python -m services.gateway`"""

from services.gateway.server import serve
from shared.settings import Settings

serve(Settings())
