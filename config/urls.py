from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.security.auth import AdminLoginForm
from incentives.passes.urls import counter as pass_check

from .exceptions import api_not_found
from .health import healthz, readyz
from .observability import metrics

api_v1 = [
    # the counter's pass check first: a path is tried against the routes in order, and
    # each include it passes costs (about 20 us of a check, issue 27); one plain route
    # costs the others next to nothing
    *pass_check,
    path("", include("accounts.urls")),
    # offers (merchants.api views, with the resident's eligibility), vouchers, redemption
    path("", include("incentives.urls")),
    path("", include("merchants.urls")),  # stations
    path("", include("incentives.dashboard.urls")),  # city staff dashboards
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the init script is a file of its own (…/?script): nothing inline under the CSP
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    re_path(r"^api/", api_not_found),
    # staff second factor: enrol, verify, recovery codes (accounts.staff_auth)
    path("staff/2fa/", include("accounts.staff_auth.urls")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("incentives.dashboard.page_urls")),  # HTML page and CSV
    path("", include("incentives.web.urls")),  # resident H5 app /m/, merchant scanner /scan/
]

handler500 = "config.exceptions.server_error"
handler400 = "config.exceptions.bad_request"

# the admin login counts failures per account and refuses a locked one
admin.site.login_form = AdminLoginForm
admin.site.site_header = _("信游 Xinyou")
admin.site.site_title = _("信游 Xinyou")
admin.site.index_title = _("管理后台")
# the home page: a merchant's figures and offers by state, a city's review queue
admin.site.index_template = "admin/xinyou/index.html"
# no side menu: the home page and the breadcrumbs lead everywhere, and the lists keep the
# 300 px it took for their columns (every column on one screen at 1280 px)
admin.site.enable_nav_sidebar = False
