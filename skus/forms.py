from django import forms
from django.utils.translation import gettext_lazy as _


class AdjustForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Change (+ to add, - to remove)"), min_value=-99_999, max_value=99_999
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)
