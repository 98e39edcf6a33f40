"""Word lists for people and companies (invented combinations; no real person or firm)."""

import numpy as np

FIRST_NAMES = np.array(
    """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony
    Betty Mark Sandra Steven Ashley Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin
    Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura
    Jeffrey Cynthia Ryan Amy Jacob Kathleen Gary Angela Nicholas Shirley Eric Brenda Jonathan Emma
    Stephen Anna Larry Pamela Justin Nicole Scott Samantha Brandon Katherine Benjamin Christine
    Samuel Helen Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack
    Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce Jose Victoria Adam Ruth Nathan
    Virginia Henry Lauren Zachary Kelly Douglas Christina Peter Joan Kyle Evelyn Noah Judith
    Ethan Andrea Jeremy Hannah Walter Megan Christian Cheryl Keith Jacqueline Roger Martha Terry
    Madison Austin Teresa Sean Gloria Gerald Sara Carl Janice Harold Ann Dylan Kathryn Arthur
    Abigail Lawrence Sophia Jordan Frances Jesse Jean Bryan Alice Billy Judy Bruce Isabella
    Gabriel Julia Joe Grace Logan Amber Alan Denise Juan Danielle Albert Marilyn Willie Beverly
    Elijah Charlotte Wayne Natalie Randy Theresa Vincent Diana Mason Brittany Roy Doris Ralph
    Kayla Bobby Alexis Russell Lori Bradley Marie Philip Yuki Hiroshi Sakura Kenji Lukas Anna
    Hannah Felix Leon Mia Lea Louis Chloe Hugo Manon Sven Daan Sanne Javier Lucia Oliver Amelia""".split()
)
LAST_NAMES = np.array(
    """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
    Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
    Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
    Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo
    Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell
    Coleman Butler Henderson Barnes Fisher Vasquez Simmons Romero Jordan Patterson Alexander
    Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis
    Tanaka Suzuki Takahashi Watanabe Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker
    Dubois Laurent Bernard Moreau Lefebvre Jansen Bakker Visser Smit Fernandez Navarro""".split()
)
COMPANY_HEADS = np.array(
    """Acme Apex Arbor Atlas Aurora Beacon Birch Blue Bright Cedar Clear Cobalt Copper Crest
    Delta Echo Ember Evergreen Falcon Fern Flint Forge Granite Harbor Helix Horizon Indigo Iron
    Juniper Keystone Lumen Maple Meridian Nimbus North Nova Oak Orbit Pine Pioneer Prism Quartz
    Radiant Ridge River Sage Silver Sky Solar Spruce Stone Summit Swift Terra Tidal Vertex
    Willow Zenith""".split()
)
COMPANY_TAILS = np.array(
    """Analytics Labs Systems Software Logistics Health Dynamics Networks Robotics Foods Energy
    Capital Works Media Cloud Security Bio Retail Learning Motors Finance Data Studio Partners
    Industries Ventures Supply Insights Commerce Logic""".split()
)
COMPANY_SUFFIX = {
    "US": "Inc", "CA": "Inc", "AU": "Pty Ltd", "GB": "Ltd", "DE": "GmbH", "FR": "SAS",
    "NL": "BV", "ES": "SL", "JP": "KK",
}
COUNTRY_TLD = {
    "US": "com", "CA": "ca", "AU": "com.au", "GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl",
    "ES": "es", "JP": "co.jp",
}
INDUSTRIES = np.array(
    [
        "Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Education",
        "Media", "Logistics", "Energy", "Professional Services", "Hospitality", "Real Estate",
    ]
)
TITLES = np.array(
    [
        "VP Sales", "Head of Revenue Operations", "Sales Operations Manager", "CFO", "CRO",
        "Director of Marketing", "Marketing Operations Manager", "CEO", "Founder",
        "Business Analyst", "Head of Growth", "Demand Generation Manager", "COO",
        "Director of Sales", "RevOps Analyst", "Controller",
    ]
)
