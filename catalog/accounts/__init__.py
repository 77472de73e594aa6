"""Who is signed in and in which tenant: the tenant middleware, the guards every page uses,
the sign-in lockout, and what every page's layout needs."""
