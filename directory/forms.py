"""The base of every HTML form: text fields get text, and uploads reach only file fields."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms.fields import FileField

# Tells "no formdata given, read the request" apart from an explicit formdata=None.
_FROM_REQUEST = object()


class Form(FlaskForm):
    """A FlaskForm that reads only what a browser's form sends.

    FlaskForm also feeds uploaded files and JSON bodies to every field, so a text field could
    receive a file or a number and a validator would fail with a 500. Here a text field only
    ever sees text; a JSON body is simply an empty form.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _FROM_REQUEST:
                return formdata
            if not form.is_submitted():
                return None
            file_fields = {field.name for field in form if isinstance(field, FileField)}
            uploads = MultiDict(
                (name, value)
                for name, value in request.files.items(multi=True)
                if name in file_fields
            )
            if uploads:
                return CombinedMultiDict((uploads, request.form))
            return request.form or None

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
