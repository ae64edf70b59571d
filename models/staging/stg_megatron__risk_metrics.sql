with

source_table as (
    select * from {{ source('megatron', 'risk_metrics') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table."timestamp",
        source_table.concentration_risk,
        source_table.single_wallet_dominance,
        source_table.whale_coordination_detected,
        source_table.bot_activity_score,
        source_table.bot_swarm_detected,
        source_table.mev_bot_percentage,
        source_table.rug_risk_score,
        source_table.creator_dumping,
        source_table.insider_selling,
        source_table.liquidity_removal_risk,
        source_table.wash_trading_score,
        source_table.pump_dump_pattern,
        source_table.coordinated_buying,
        source_table.overall_risk_score,
        source_table.confidence_level,
        source_table.created_at
    from source_table
)

select * from renamed
