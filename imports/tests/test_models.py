import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from imports.models import UploadedFile
from imports.tests.factories import UploadedFileFactory

pytestmark = pytest.mark.django_db


def test_upload_gets_a_unique_single_use_token_and_starts_pending():
    first, second = UploadedFileFactory(), UploadedFileFactory()
    assert first.status == "pending"
    assert len(first.token) >= 40
    assert first.token != second.token


@pytest.mark.parametrize(
    "field", [{"import_mode": "merge"}, {"zero_handling": "skip"}, {"status": "done"}]
)
def test_database_refuses_values_outside_the_enums(field):
    upload = UploadedFileFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        UploadedFile.objects.filter(pk=upload.pk).update(**field)


def test_database_refuses_a_repeated_token():
    upload = UploadedFileFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        UploadedFileFactory(token=upload.token)


def test_admin_lists_uploads_without_their_content_or_token(admin_client):
    upload = UploadedFileFactory(original_content="sku,quantity\nsecret-sku,1\n")
    listing = admin_client.get(reverse("admin:imports_uploadedfile_changelist"))
    assert [u.pk for u in listing.context["cl"].result_list] == [upload.pk]
    page = admin_client.get(reverse("admin:imports_uploadedfile_change", args=[upload.pk]))
    html = page.content.decode()
    assert upload.token not in html
    assert "secret-sku" not in html
    assert "Inventory Sync" in html
