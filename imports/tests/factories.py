import factory

from imports.models import UploadedFile


class UploadedFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadedFile

    filename = "stock.csv"
    original_content = "sku,quantity\nce1111,5\n"
    store = factory.SubFactory("stores.tests.factories.StoreFactory")
    import_mode = UploadedFile.ImportMode.RESET_STOCK
    zero_handling = UploadedFile.ZeroHandling.IGNORE
    operator = "alice"
