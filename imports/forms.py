from django import forms
from django.utils.translation import gettext_lazy as _

from stores.models import Store

from .models import UploadedFile
from .parsing import MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Stock file (CSV or tab separated)"))
    store = forms.ModelChoiceField(queryset=Store.objects.all(), label=_("Store"))
    import_mode = forms.ChoiceField(choices=UploadedFile.ImportMode.choices, label=_("Import mode"))
    zero_handling = forms.ChoiceField(
        choices=UploadedFile.ZeroHandling.choices, label=_("Zero handling")
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is over 20 MB."))
        return upload


class ConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    skip_errors = forms.BooleanField(
        required=False, label=_("Leave out the rows with errors and apply the rest")
    )
