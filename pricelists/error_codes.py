"""The price lists app's error codes (stable in the wire format; tenants/error_codes.py)."""

from enum import StrEnum


class PriceListErrorCode(StrEnum):
    PRICE_LIST_NOT_FOUND = "price_list_not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
