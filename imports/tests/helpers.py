"""Staff users and uploads through the pages, shared by the view and browser tests."""

from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse


def staff(username, *perms):
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return user


def post_file(client, content, store, **extra):
    data = {
        "file": SimpleUploadedFile("stock.csv", content.encode()),
        "store": store.store_id,
        "import_mode": "reset_stock",
        "zero_handling": "ignore",
        **extra,
    }
    return client.post(reverse("imports:upload"), data)
