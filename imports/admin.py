from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from imports.models import UploadedFile
from inventory_site.admin_mixins import ReadOnlyAdmin


@admin.register(UploadedFile)
class UploadedFileAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "filename",
        "store",
        "import_mode",
        "zero_handling",
        "operator",
        "status",
        "size",
    )
    list_filter = ("status", "import_mode", "zero_handling", "store")
    search_fields = ("filename", "operator")
    exclude = ("original_content", "token")

    @admin.display(description=_("characters"))
    def size(self, obj: UploadedFile) -> int:
        return len(obj.original_content)
