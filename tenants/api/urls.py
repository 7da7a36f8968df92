from django.urls import path

from tenants.api import views

urlpatterns = [
    path("csrf", views.CsrfView.as_view(), name="auth-csrf"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("token", views.TokenView.as_view(), name="auth-token"),
    path("me", views.MeView.as_view(), name="auth-me"),
]
