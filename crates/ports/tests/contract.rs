//! The repository contract (`ticketing_ports::contract`) over the in-memory repository.

ticketing_ports::repository_contract!(|| Box::new(
    ticketing_ports::memory::InMemoryTicketRepository::new()
));
