"""Extensions created unbound and attached in the factory."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from kernel.db import Base

# What a transaction loaded stays readable once it is committed: an answer is built from it after the commit,
# without reading it again. Whatever must see other writers' changes reads under a lock (populate_existing).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
