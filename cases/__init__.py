"""The SpeakUp domain: categories, the case lifecycle and the services both front doors call.

Free of aiogram, FastAPI and SQLAlchemy: services take repositories and the vault as
constructor arguments.
"""
