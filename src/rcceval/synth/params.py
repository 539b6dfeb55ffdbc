"""Every generating parameter of the synthetic region, in one place.

The values are plain Python (lists, dicts, floats) so that truth.json can carry them verbatim.
Calibration targets are the DfE "Children looked after in England" 2024 figures quoted in
DESIGN.md; where a parameter was tuned to reach a target the comment says which.
"""
from __future__ import annotations

import copy

DOMAINS: list[str] = [
    "emotional_wellbeing",
    "behaviour",
    "risk_to_self",
    "risk_to_others",
    "exploitation_missing",
    "relationships_attachment",
    "learning_communication",
    "health_disability",
]
INSTRUMENT = "rcceval-open-v1"

# Councils and their sizes (children looked after on 31 March 2024): la2024.py, from the DfE table;
# councils.py chooses them by scale (small: West Berkshire and Reading; region: the South East's 19;
# national: England's 152).
# 3+ placements in the year, % by South East council 2024 (one suppressed): the spread to match.
SOUTH_EAST_3PLUS_2024: list[int] = [14, 11, 16, 12, 13, 16, 17, 12, 10, 18, 11, 9, 15, 13, 11, 13, 12, 11]
SCALES: tuple[str, ...] = ("small", "berkshire", "region", "national")

# Placement type groups (the hazard's "type group" covariate) and their 903 PLACE codes.
TYPE_GROUPS: dict[str, list[str]] = {
    "foster": ["U4", "U5", "U6"],
    "kinship": ["U1", "U2", "U3"],
    "residential": ["K1", "K2", "R1"],
    "supported": ["H5", "P2"],
    "parents": ["P1"],
    "adoption": ["A3", "A4", "A5", "A6"],
    "other": ["S1", "R2", "R3", "R5", "Z1", "P3"],
}
REGISTERED = ["K1", "K2", "R1", "S1", "H5"]  # settings with an Ofsted URN in the register
# Placements Data Standard v2 placementType of each PLACE code (others have no request).
REQUEST_TYPE: dict[str, str] = {
    **{c: "Foster" for c in ["U1", "U2", "U3", "U4", "U5", "U6"]},
    **{c: "Residential" for c in ["K1", "K2", "R1", "S1"]},
    **{c: "Supported Accommodation" for c in ["H5", "P2"]},
}

UNPLANNED_REASONS = ["CREQB", "CREQO", "CHILD", "ALLEG", "STAND", "CLOSE", "APPRR"]
PLANNED_REASONS = ["CARPL", "OTHER", "LAREQ", "CUSTOD", "PLACE"]

_AGE_BANDS = ["age_0_4", "age_10_12", "age_13_15", "age_16_17"]  # reference band: 5-9
_TYPE_DUMMIES = ["kinship", "residential", "supported", "parents", "adoption", "other"]  # ref foster


def _coef(age, types, intensity, frequency, mismatch, second_best, first, uasc, care_order) -> dict:
    return {
        **{b: v for b, v in zip(_AGE_BANDS, age)},
        **{f"type_{t}": v for t, v in zip(_TYPE_DUMMIES, types)},
        **{f"intensity_{d}": v for d, v in zip(DOMAINS, intensity)},
        **{f"frequency_{d}": v for d, v in zip(DOMAINS, frequency)},
        "mismatch": mismatch,
        "second_best": second_best,
        "first_in_period": first,
        "uasc": uasc,
        "care_order": care_order,
    }


COVARIATE_DEFINITIONS: dict[str, str] = {
    "age_0_4": "1 if age in whole years at placement start is 0-4 (reference band 5-9)",
    "age_10_12": "1 if age at placement start is 10-12",
    "age_13_15": "1 if age at placement start is 13-15",
    "age_16_17": "1 if age at placement start is 16-17",
    **{f"type_{t}": f"1 if the PLACE code of the placement's first episode is in type group '{t}' "
       "(reference group 'foster'; groups in type_groups)" for t in _TYPE_DUMMIES},
    **{f"intensity_{d}": f"INTENSITY (0-3) for domain {d} in the latest needs assessment dated at or "
       "before the placement start (the one written to needs_assessments.csv)" for d in DOMAINS},
    **{f"frequency_{d}": f"FREQUENCY (0-3) for domain {d} in that same assessment" for d in DOMAINS},
    "mismatch": "sum over the 8 domains of max(0, recorded INTENSITY - placement capability), "
                "capability from provider_register.csv by URN or from the CAP_* columns of "
                "placement_agreements.csv",
    "second_best": "1 if the secured placementType differs from the type marked 'Preferred' in the "
                   "placement request (applies to every commissioned placement; recorded only where "
                   "a placement_requests.csv row exists)",
    "first_in_period": "1 if the placement is the first of a period of care (its first episode has RNE S)",
    "uasc": "1 if the child is an unaccompanied asylum-seeking child (in uasc.csv)",
    "care_order": "1 if the legal status (LS) of the placement's first episode is a care or "
                  "placement order: C1, C2, D1 or E1",
}


BASE_PARAMS: dict = {
    "timeline": {
        "burn_in_years": 18,
        "description": "entries are simulated from 18 years before the first return's 1 April, so "
                       "every child in the first return entered under the same model (steady state)",
    },
    "population": {
        # new children per year = entry_ratio * council size (tuned: stock on 31 March ~ size)
        "entry_ratio": 0.53,
        "p_uasc": 0.16,
        "uasc_age_probs": {"14": 0.08, "15": 0.22, "16": 0.42, "17": 0.28},
        "uasc_p_male": 0.94,
        "age_band_probs": {"0": 0.24, "1-4": 0.16, "5-9": 0.16, "10-15": 0.22, "16-17": 0.23},
        "p_newborn_within_week": 0.45,
        "p_male": 0.535,
        "cin_probs_under10": {"N1": 0.79, "N2": 0.02, "N3": 0.028, "N4": 0.055, "N5": 0.09,
                              "N6": 0.003, "N7": 0.004, "N8": 0.01},
        "cin_probs_10plus": {"N1": 0.64, "N2": 0.04, "N3": 0.03, "N4": 0.085, "N5": 0.142,
                             "N6": 0.035, "N7": 0.008, "N8": 0.02},
        "cin_probs_uasc": {"N1": 0.02, "N4": 0.02, "N8": 0.96},
        "ethnic_probs": {"WBRI": 0.705, "WIRI": 0.003, "WIRT": 0.004, "WOTH": 0.05, "WROM": 0.008,
                         "MWBC": 0.04, "MWBA": 0.02, "MWAS": 0.022, "MOTH": 0.04, "AIND": 0.006,
                         "APKN": 0.015, "ABAN": 0.005, "AOTH": 0.01, "BCRB": 0.012, "BAFR": 0.03,
                         "BOTH": 0.01, "CHNE": 0.002, "OOTH": 0.01, "REFU": 0.002, "NOBT": 0.006},
        "ethnic_probs_uasc": {"BAFR": 0.34, "AOTH": 0.26, "OOTH": 0.2, "WOTH": 0.09, "BOTH": 0.05,
                              "MOTH": 0.02, "NOBT": 0.04},
        "short_break_share": 0.03,
    },
    "reentry": {
        "p_reentry_after_return_home": 0.26,
        "eligible_rec": ["E4A", "E4B", "E13", "E41", "E8", "E15"],
        "max_age_at_end": 16.5,
        "delay_days_median": 240,
        "delay_sigma": 1.0,
        "max_periods": 4,
    },
    "legal_status": {
        "entry_probs_under10": {"C1": 0.44, "V2": 0.37, "L1": 0.06, "L2": 0.07, "L3": 0.005,
                                "C2": 0.055},
        "entry_probs_10_15": {"C1": 0.27, "V2": 0.55, "L1": 0.08, "L2": 0.02, "J1": 0.03,
                              "J2": 0.02, "C2": 0.03},
        "entry_probs_16_17": {"V2": 0.76, "C1": 0.09, "L1": 0.05, "J1": 0.05, "J2": 0.03, "J3": 0.02},
        "emergency_days": [2, 8],
        "emergency_days_by_code": {"L1": [1, 3], "L2": [2, 8], "L3": [2, 8],
                                   "rule": "police protection (L1) at most 72 hours (DfE 361), an EPO (L2) "
                                           "at most 21 days (362)"},
        "J2_days": [1, 14],
        "J2_rule": "PACE detention (J2) moves to V2 within J2_days, always (DfE 364: at most 21 days)",
        "emergency_to_C1": 0.55,
        "youth_justice_days": [20, 120],
        "youth_justice_to_V2": 0.7,
        "V2_to_C1_prob_under14": 0.15,
        "V2_to_C1_days": [30, 300],
        "C1_to_C2_prob": 0.85,
        "C1_to_C2_days": [120, 280],
        "E1_at_final_order_prob_under5": 0.7,
        "C2_to_E1_prob_under5": 0.12,
        "C2_to_E1_days": [60, 240],
    },
    "needs": {
        "domains": DOMAINS,
        "scale": "INTENSITY and FREQUENCY 0-3 (none, low, medium, high)",
        "intensity_rule": "INTENSITY = clip(round(latent + e), 0, 3), e ~ N(0, measurement_sd^2) "
                          "fresh at each assessment",
        "latent_rule": "latent_d(t) = mean_d + shift_d(CIN, UASC) + child_sd * z_d + age_amp_d * "
                       "age_curve(age(t)) + exploitation_ramp(age) [exploitation only] + drift_d(t); "
                       "z_d = loadings_d . eta + unique_d * u_d with eta ~ N(0, I3) (general, "
                       "externalising, internalising) and u_d ~ N(0,1) per child; drift_d(t) = "
                       "sum_k A_dk cos(2 pi t / period_k + phi_dk), A_dk ~ N(0, drift_sd^2 / 2)",
        "domain_means": [1.0, 0.95, 0.45, 0.55, 0.3, 1.05, 0.85, 0.35],
        "child_sd": 0.85,
        "loadings_general": [0.6, 0.6, 0.55, 0.55, 0.5, 0.6, 0.45, 0.3],
        "loadings_externalising": [0.0, 0.55, 0.1, 0.55, 0.45, 0.1, 0.1, 0.0],
        "loadings_internalising": [0.5, 0.0, 0.5, 0.0, 0.0, 0.35, 0.1, 0.0],
        "age_curve": {"peak1_age": 7.0, "peak2_age": 11.0, "peak_sd": 1.25, "peak_height": 0.6,
                      "plateau": 0.28, "plateau_age": 12.3, "plateau_width": 0.7,
                      "infant_offset": -0.25,
                      "form": "h*exp(-(a-7)^2/(2 s^2)) + h*exp(-(a-11)^2/(2 s^2)) + "
                              "plateau/(1+exp(-(a-plateau_age)/plateau_width)) + "
                              "infant_offset*(a<3)*(3-a)/3"},
        "age_amp": [1.0, 1.0, 0.8, 1.0, 0.6, 1.0, 1.0, 0.5],
        "exploitation_ramp": {"below_age": 10.0, "full_age": 14.0, "offset": -0.9},
        "shifts": {
            "N1": {"emotional_wellbeing": 0.25, "relationships_attachment": 0.35},
            "N2": {"health_disability": 1.7, "learning_communication": 1.3,
                   "exploitation_missing": -0.2},
            "N3": {"emotional_wellbeing": 0.15},
            "N4": {"behaviour": 0.2},
            "N5": {"behaviour": 0.3, "relationships_attachment": 0.2},
            "N6": {"behaviour": 0.9, "risk_to_others": 0.9, "exploitation_missing": 0.7},
            "N7": {},
            "N8": {"relationships_attachment": 0.2},
            "UASC": {"emotional_wellbeing": 0.45, "learning_communication": 0.7,
                     "behaviour": -0.5, "risk_to_others": -0.45, "relationships_attachment": -0.35,
                     "exploitation_missing": 0.1},
        },
        "drift_sd": 0.35,
        "drift_periods_years": [2.5, 6.0],
        "measurement_sd": 0.35,
        "frequency_rule": "FREQUENCY = 0 if INTENSITY = 0, else clip(round(INTENSITY + "
                          "freq_offset + freq_child_sd*w + freq_noise_sd*e'), 1, 3)",
        "freq_offset": -0.25,
        "freq_child_sd": 0.45,
        "freq_noise_sd": 0.45,
        "entry_assessment_days_before_start": [0, 5],
        "review_interval_days": 182.5,
        "review_jitter_days": 14,
        "p_never_assessed": 0.04,
    },
    "sdq": {
        "rule": "SDQ_SCORE = clip(round(intercept + slope*composite + N(0, noise_sd^2)), 0, 40), "
                "composite = mean latent of emotional_wellbeing, behaviour, risk_to_self, "
                "risk_to_others, relationships_attachment on 31 March",
        "intercept": 5.25,
        "slope": 7.05,
        "noise_sd": 6.5,
        "ages": [4, 16],
        "p_missing": 0.15,
        "missing_reasons": {"SDQ2": 0.3, "SDQ3": 0.25, "SDQ4": 0.3, "SDQ5": 0.15},
    },
    "placement_choice": {
        "routes": "first a non-commissioned route (placed for adoption, with parents, mother and "
                  "baby, custody, health, other) by age, legal status and placement number; "
                  "otherwise the preferred type (Foster / Residential / Supported Accommodation) "
                  "is the argmax of the utilities below plus Gumbel noise, and the preferred type "
                  "is secured with p_secure, else a second-best type",
        "p_adoption_if_E1": 0.85,
        "p_adoption_move_after_E1": 0.9,
        "adoption_move_days": [30, 150],
        "adoption_move_rule": "outside the Weibull model: a child under 6 in a foster or kinship "
                              "placement when a placement order (E1) is made moves (planned change) to "
                              "adopters E1 + U(30,150) days later with p 0.9, unless the placement ended first",
        "p_parents_first": 0.04,
        "p_parents_later_C": 0.18,
        "p_mother_baby_infant": 0.1,
        "p_custody_if_J1": 0.2,
        "p_custody_15plus": 0.003,
        "p_health": 0.008,
        "p_other_Z1": 0.015,
        "p_residential_employment_16plus": 0.01,
        "utility_residential": {"intercept": -5.5, "ext_needs": 0.5, "risk_to_self": 0.25,
                                "freq_behaviour": 0.3, "age_lt8": -3.0, "age_8_11": -0.9,
                                "age_12_15": 0.55, "age_16_17": 0.0, "per_previous_placement": 0.45,
                                "previous_residential": 1.2, "uasc": -1.2},
        "utility_supported": {"intercept": 0.6, "uasc": 2.0, "previous_supported": 1.0,
                              "ext_needs": -0.25, "not_first": 0.4, "only_from_age": 16},
        "p_secure_foster": {"under10": 0.93, "10_13": 0.8, "14plus": 0.7},
        "p_secure_residential": 0.88,
        "p_secure_supported": 0.9,
        "p_kinship_first": 0.27,
        "p_kinship_later": 0.12,
        "p_kinship_uasc": 0.03,
        "p_long_term_foster_planned": 0.35,
        "p_ffa_infant": 0.08,
        "p_ifa": {"base": 0.33, "age10plus": 0.12, "high_need": 0.1, "second_best": 0.25},
        "p_secure_home_high_risk": 0.06,
        "p_residential_school_learning": 0.35,
        "p_R1": 0.03,
        "p_P2_supported": 0.15,
        "P2_last_day": "2023-10-28",
        "P2_rule": "P2 (independent living) only for placements starting before P2_last_day; a P2 "
                   "placement still open then ends that day, a planned change (LAREQ) outside the Weibull "
                   "model (DfE 217t: P2 is not a valid placement after 28 October 2023)",
        "parents_rule": "placed with parents (P1) only under a care order (C1/C2; DfE 378: never V2)",
        "p_status_change_same_carer": 0.3,
        "status_change_days": [180, 600],
    },
    "capability": {
        "rule": "registered settings: capability from the register; otherwise capability_d = "
                "clip(INTENSITY_d + delta_d, floor_d, ceiling_d) with delta_d drawn from delta_probs "
                "(shifted by second_best_shift for second-best placements)",
        "delta_values": [-1, 0, 1, 2],
        "delta_probs": [0.08, 0.47, 0.33, 0.12],
        "second_best_shift": -1,
        "ceiling": {
            "foster_in_house": [3, 2, 2, 2, 2, 3, 2, 2],
            "foster_ifa": [3, 3, 2, 2, 2, 3, 3, 3],
            "kinship": [3, 2, 2, 2, 1, 3, 2, 2],
            "adoption": [3, 2, 2, 1, 1, 3, 2, 2],
            "parents": [2, 2, 1, 1, 1, 2, 2, 2],
            "P2": [1, 1, 1, 0, 1, 1, 1, 1],
            "R2": [3, 2, 3, 2, 1, 2, 2, 3],
            "R3": [2, 1, 1, 1, 1, 3, 1, 2],
            "R5": [2, 3, 2, 3, 2, 1, 2, 2],
            "Z1": [2, 2, 2, 2, 2, 2, 2, 2],
            "P3": [1, 1, 1, 1, 1, 1, 1, 1],
        },
        "floor": {"foster": [1, 1, 0, 0, 0, 1, 1, 0], "default": [0, 0, 0, 0, 0, 0, 0, 0]},
    },
    "register": {
        "homes_per_looked_after": 0.035,
        "supported_per_looked_after": 0.01,
        "secure_per_looked_after": 0.00017,
        "r1_per_looked_after": 0.002,
        "schools_per_looked_after": 0.003,
        "outside_share": 0.3,
        "home_profiles": {
            "mainstream": {"p": 0.6, "cap": [2, 2, 2, 2, 2, 2, 1, 1]},
            "behaviour": {"p": 0.15, "cap": [2, 3, 2, 3, 3, 2, 1, 1]},
            "therapeutic": {"p": 0.15, "cap": [3, 2, 3, 2, 2, 3, 2, 1]},
            "disability": {"p": 0.1, "cap": [2, 2, 1, 2, 1, 2, 3, 3]},
        },
        "cap_noise": "each home's capability is its profile's +/-1 with p 0.15 each way, clipped 0-3",
        "secure_cap": [3, 3, 3, 3, 3, 3, 2, 2],
        "r1_cap": [2, 2, 2, 1, 1, 2, 3, 3],
        "school_cap": [2, 2, 1, 2, 1, 2, 3, 2],
        "supported_cap": [2, 1, 1, 1, 1, 1, 2, 1],
        "places": {"K2": [1, 6], "K1": [10, 30], "R1": [4, 16], "S1": [20, 80], "H5": [4, 20]},
        "provider_mix_homes": {"PR1": 0.14, "PR4": 0.76, "PR5": 0.1},
        "provider_mix_supported": {"PR1": 0.2, "PR4": 0.6, "PR5": 0.2},
        "candidates": 12,
        "choice_rule": "among the 12 registered settings of the placement's PLACE code nearest the "
                       "search point, the one with the highest -mismatch - km/30 + Gumbel*0.7",
    },
    "geography": {
        "map": "real councils at real postcodes: up to 400 live postcodes per council from the ONS "
               "Postcode Directory (evenly spaced in sort order, the same for every seed); the "
               "postcodes of the rest of England (Wales for the national scale) are outside the region",
        "distance_rule": "search point = home postcode + d*(cos u, sin u), d ~ lognormal(median, "
                         "sigma) km by type; the placement is at the nearest postcode (or setting) "
                         "to the search point that is neither the child's home postcode (except P1) "
                         "nor the previous placement's; distance = straight line between postcodes "
                         "(national grid), as the DfE computes it",
        "distance_km": {
            "foster_in_house": [7.5, 1.0], "foster_ifa": [19.0, 1.05], "kinship": [6.0, 1.35],
            "K2": [45.0, 1.0], "R1": [30.0, 1.0], "K1": [70.0, 0.6], "S1": [40.0, 0.8],
            "H5": [8.0, 1.0], "P2": [5.0, 1.0], "P1": [1.5, 1.0], "adoption": [25.0, 1.0],
            "R2": [15.0, 0.8], "R3": [15.0, 0.8], "R5": [50.0, 0.5], "Z1": [20.0, 1.0],
            "P3": [20.0, 1.0],
        },
        "p_pl_post_blank": {"P2": 0.0, "P1": 0.0},  # every placement postcode recorded (DfE 392b)
    },
    "hazard": {
        "form": "cause-specific proportional hazards with a Weibull baseline, time t in years "
                "since the placement start: h_c(t | x) = lambda_c * shape_c * t^(shape_c - 1) * "
                "exp(x' beta_c) * frailty_council (frailty on unplanned and planned only); the "
                "placement ends at the first of the three latent times, at the 18th birthday "
                "(leaving care, forced) or is censored at the extract date",
        "causes": ["unplanned", "planned", "leaving_care"],
        "baseline": {
            "unplanned": {"lambda": 0.03, "shape": 0.56},
            "planned": {"lambda": 0.255, "shape": 0.65},
            "leaving_care": {"lambda": 0.58, "shape": 0.72},
        },
        "log_hr": {
            "unplanned": _coef(age=[-0.8, 0.3, 0.6, 0.35],
                               types=[-0.3, 0.4, 0.5, -0.2, -1.5, 0.3],
                               intensity=[0.10, 0.20, 0.0, 0.15, 0.20, 0.10, 0.0, 0.0],
                               frequency=[0.0, 0.10, 0.0, 0.0, 0.10, 0.0, 0.0, 0.0],
                               mismatch=0.25, second_best=0.3, first=0.2, uasc=-0.3, care_order=0.0),
            "planned": _coef(age=[0.3, 0.0, 0.1, 0.2],
                             types=[-0.4, 0.1, -0.2, -0.5, -2.0, 0.3],
                             intensity=[0.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             frequency=[0.0] * 8,
                             mismatch=0.1, second_best=0.2, first=1.2, uasc=0.0, care_order=0.0),
            "leaving_care": _coef(age=[0.5, -0.3, -0.2, 0.0],
                                  types=[0.3, -0.5, 0.5, 1.0, 2.0, 0.5],
                                  intensity=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.1, -0.3],
                                  frequency=[0.0] * 8,
                                  mismatch=0.0, second_best=0.0, first=1.3, uasc=-1.0, care_order=-1.2),
        },
        "council_frailty_sd": 0.1,
        "council_frailty_applies_to": ["unplanned", "planned"],
        "covariates": COVARIATE_DEFINITIONS,
        "type_groups": TYPE_GROUPS,
        "age_bands": {"age_0_4": [0, 4], "reference_5_9": [5, 9], "age_10_12": [10, 12],
                      "age_13_15": [13, 15], "age_16_17": [16, 17]},
        "assessment_in_force_rule": "the latest assessment dated on or before the placement start; the "
                                    "entry assessment is dated 0-5 days before the period's first placement",
        "never_assessed_rule": "for periods with no assessment written (p_never_assessed), the hazard "
                               "uses the values an assessment would have recorded: missing completely "
                               "at random",
        "minimum_duration_days": 1,
        "duration_rule": "duration_days = max(1, ceil(365.25 * min latent time))",
        "null_needs_zeroed": "every intensity_*, frequency_* and mismatch log-HR is 0 in all causes, "
                             "and each baseline lambda is multiplied by null_baseline_multiplier (the "
                             "mean of exp(needs part of the linear predictor) over placements of the "
                             "non-null model) so the number of endings stays about the same",
        "null_baseline_multiplier": {"unplanned": 5.85, "planned": 1.21, "leaving_care": 0.725},
    },
    "endings": {
        "unplanned_reasons": {"CREQB": 0.4, "CREQO": 0.3, "CHILD": 0.14, "ALLEG": 0.05,
                              "STAND": 0.05, "CLOSE": 0.05, "APPRR": 0.01},
        "planned_reasons": {"CARPL": 0.56, "OTHER": 0.38, "LAREQ": 0.06},
        "custody_reason": "CUSTOD replaces a planned reason when the next placement is R5",
        "rec_adoption": {"E11": 0.45, "E12": 0.55},
        "rec_parents": {"E4A": 0.74, "E4B": 0.05, "E41": 0.08, "E13": 0.07, "E8": 0.05, "E2": 0.01},
        "rec_kinship": {"E45": 0.34, "E41": 0.2, "E4A": 0.2, "E13": 0.15, "E8": 0.05, "E47": 0.06},
        "rec_under16": {"E4A": 0.42, "E4B": 0.1, "E13": 0.15, "E41": 0.07, "E46": 0.05,
                        "E48": 0.03, "E47": 0.03, "E8": 0.08, "E3": 0.03, "E15": 0.015,
                        "E16": 0.012, "E2": 0.003},
        "rec_16_17": {"E5": 0.3, "E6": 0.05, "E4A": 0.16, "E4B": 0.1, "E13": 0.15, "E8": 0.12,
                      "E15": 0.04, "E3": 0.02, "E7": 0.02, "E16": 0.03, "E2": 0.01},
        "rec_at_18_foster": {"E17": 0.3, "E5": 0.45, "E6": 0.08, "E8": 0.12, "E7": 0.05},
        "rec_at_18_other": {"E5": 0.62, "E6": 0.13, "E8": 0.18, "E7": 0.07},
        "rec_rule": "E15 only from age 12; E7 mainly for N2; E11/E12 only from adoption placements",
    },
    "fees": {
        "price_year": "2024-25",
        "rule": "WEEKLY_FEE = round(base * exp(sd * z) * (1 + uplift * sum of recorded INTENSITY))",
        "sources": "in-house foster ~GBP 450-600/wk; IFA ~GBP 820/wk (CMA 2021, uprated); "
                   "children's homes GBP 3,830/wk (CMA 2021, large providers) to ~GBP 6,100/wk "
                   "(NAO 2025: GBP 318,400/yr per place 2023-24); supported accommodation "
                   "~GBP 1,000-2,000/wk; secure ~GBP 7,000+/wk",
        "by_kind": {
            "foster_in_house": [470, 0.12, 0.02], "foster_ifa": [760, 0.12, 0.02],
            "kinship": [380, 0.12, 0.01], "K2_private": [4500, 0.3, 0.03],
            "K2_la": [4000, 0.25, 0.03], "K1": [7500, 0.15, 0.01], "R1": [4500, 0.25, 0.02],
            "S1": [4200, 0.3, 0.02], "H5": [1250, 0.3, 0.03], "P2": [250, 0.3, 0.0],
            "P1": [0, 0.0, 0.0], "adoption": [350, 0.2, 0.0], "R2": [5000, 0.2, 0.0],
            "R3": [3200, 0.2, 0.0], "R5": [0, 0.0, 0.0], "Z1": [1200, 0.3, 0.0],
            "P3": [200, 0.2, 0.0],
        },
    },
    "requests": {
        "years_before_extract": 3.0,
        "coverage": 0.85,
        "only_types": ["Foster", "Residential", "Supported Accommodation"],
        "risk_rule": "risk fields 'Risk Present' when the mapped domain's recorded INTENSITY >= 2 "
                     "(sexual harm, fire, animals: a random subset of those)",
        "risk_map": {
            "riskSelfHarm": "risk_to_self", "riskSexualExploitation": "exploitation_missing",
            "riskCriminalExploitation": "exploitation_missing", "riskDrugAlcohol": "exploitation_missing",
            "riskEatingDisorder": "emotional_wellbeing (>=3)", "riskMissing": "exploitation_missing",
            "riskToOthersPhysical": "risk_to_others", "riskToOthersSexual": "risk_to_others (subset)",
            "riskToOthersFire": "risk_to_others (subset)", "riskToOthersAnimals": "behaviour (subset)",
            "riskToOthersCriminal": "risk_to_others",
        },
        "preferability_location_rule": "true when the placement is within 20 miles of home",
    },
    "oc2": {
        "p_health_check": 0.89, "p_immunisations": 0.82, "p_teeth_check": 0.79,
        "p_health_assessment": 0.89, "p_convicted_10plus": 0.02, "p_substance_misuse_base": 0.015,
        "p_substance_misuse_high_exploitation": 0.12,
    },
}


def build_params(null_needs: bool = False) -> dict:
    """A fresh copy of the generating parameters; null mode zeroes every needs and mismatch effect."""
    p = copy.deepcopy(BASE_PARAMS)
    if null_needs:
        for cause, mult in p["hazard"]["null_baseline_multiplier"].items():
            p["hazard"]["baseline"][cause]["lambda"] = round(p["hazard"]["baseline"][cause]["lambda"] * mult, 6)
        for coefs in p["hazard"]["log_hr"].values():
            for name in coefs:
                if name.startswith(("intensity_", "frequency_")) or name == "mismatch":
                    coefs[name] = 0.0
    return p


def covariate_names() -> list[str]:
    """Order of the hazard's covariate vector."""
    return list(_coef([0] * 4, [0] * 6, [0] * 8, [0] * 8, 0, 0, 0, 0, 0).keys())
