from django import forms
from django.utils.translation import gettext_lazy as _

from stores.models import Store

from .models import UploadedFile
from .parsing import MAX_BYTES

MODE_HELP = _(
    "Only “set stock from the file's quantities” changes stock; “names and store ids only” "
    "never does, even when the file has quantities."
)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Stock file (CSV or tab separated)"))
    store = forms.ModelChoiceField(queryset=Store.objects.all(), label=_("Store"))
    # No mode is chosen for the user: the one that changes stock is picked on purpose.
    import_mode = forms.ChoiceField(
        choices=[("", _("— choose what the import changes —")), *UploadedFile.ImportMode.choices],
        label=_("Import mode"),
        help_text=MODE_HELP,
    )
    zero_handling = forms.ChoiceField(
        choices=UploadedFile.ZeroHandling.choices,
        label=_("Zero handling"),
        help_text=_("Used only when the import sets stock."),
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


class ExportForm(forms.Form):
    encoding = forms.ChoiceField(
        choices=[("utf-8", "UTF-8"), ("cp932", "Shift_JIS (CP932)")], required=False
    )
