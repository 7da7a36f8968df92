from rest_framework import serializers


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TenantRoleSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()


class StoreRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    tenantId = serializers.UUIDField(source="tenant_id")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null for an API key.")
    username = serializers.CharField()
    isSuperuser = serializers.BooleanField()
    tenants = TenantRoleSerializer(many=True)
    stores = StoreRefSerializer(many=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    tokenType = serializers.CharField(default="Bearer")
    expiresAt = serializers.DateTimeField(allow_null=True)


class CsrfSerializer(serializers.Serializer):
    csrfToken = serializers.CharField(
        help_text="Send it as the X-CSRFToken header of POST /api/auth/login and of every "
        "later write made with the session cookie (it is also set as the csrftoken cookie)."
    )


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
