"""The CDS services this deployment offers, by id."""

from app.services import order_select, order_sign, patient_view
from app.services.base import CdsService

SERVICES: dict[str, CdsService] = {
    service.id: service for service in (order_select.SERVICE, order_sign.SERVICE, patient_view.SERVICE)
}
