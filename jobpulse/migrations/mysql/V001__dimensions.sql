-- Reference data of the recruitment platform that the marts join to. In production these tables are
-- replicated from the platform's own database; here `V002__reference_data` fills them deterministically.

CREATE TABLE IF NOT EXISTS company (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    industry VARCHAR(100) NOT NULL,
    city VARCHAR(100) NOT NULL,
    created_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS master_publisher (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    kind VARCHAR(50) NOT NULL,
    domain VARCHAR(200) NOT NULL,
    created_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS campaign (
    id INT NOT NULL PRIMARY KEY,
    company_id INT NOT NULL,
    name VARCHAR(200) NOT NULL,
    cpc_bid DECIMAL(6, 2) NOT NULL,
    daily_budget DECIMAL(10, 2) NOT NULL,
    start_date DATE NOT NULL,
    KEY campaign_company (company_id),
    CONSTRAINT campaign_company_fk FOREIGN KEY (company_id) REFERENCES company (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS job (
    id INT NOT NULL PRIMARY KEY,
    company_id INT NOT NULL,
    group_id INT NOT NULL,
    campaign_id INT NOT NULL,
    title VARCHAR(255) NOT NULL,
    category VARCHAR(100) NOT NULL,
    city VARCHAR(100) NOT NULL,
    status VARCHAR(20) NOT NULL,
    created_at DATETIME NOT NULL,
    KEY job_company (company_id),
    KEY job_campaign (campaign_id),
    CONSTRAINT job_company_fk FOREIGN KEY (company_id) REFERENCES company (id),
    CONSTRAINT job_campaign_fk FOREIGN KEY (campaign_id) REFERENCES campaign (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
