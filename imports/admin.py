from django.contrib import admin
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.http import HttpRequest
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
    list_select_related = ("store",)
    exclude = ("original_content", "token")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[UploadedFile]:
        # A file can be megabytes: the list reads its length in the database, not the text.
        return (
            super()
            .get_queryset(request)
            .defer("original_content")
            .annotate(content_length=Length("original_content"))
        )

    @admin.display(description=_("characters"), ordering="content_length")
    def size(self, obj: UploadedFile) -> int:
        return obj.content_length
