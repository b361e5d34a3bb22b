"""Parent credentials: logins, passwords, issuing, lifecycle, status, the doctor and the
portal's authentication API."""
