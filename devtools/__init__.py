"""Tools for working on zstack-mock from a checkout (not part of the installed package): a throwaway
PostgreSQL cluster, and ``make run-postgres``'s two replicas over one."""
